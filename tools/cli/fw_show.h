/* fw_show.h: how `beamloop fw` shows the controller's replies to the operator. */
#ifndef BL_CLI_FW_SHOW_H
#define BL_CLI_FW_SHOW_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* The status reply: state, holds, current and queued, the block or fault, a table of positions,
 * the counters. */
void bl_cli_fw_print_status(const cJSON *st);

/* The "loop" reply: period, real-time settings, wake-up latency figures. */
void bl_cli_fw_print_loop(const cJSON *lp, bool reset);

/* A "queue" reply (a status): one line for SAMPLE. */
void bl_cli_fw_print_queued(int sample, const cJSON *st);

/* Any other command's reply: one state line when it is a status (and the block or fault, if
 * any), else the result as JSON when it is not empty. */
void bl_cli_fw_print_done(const char *cmd, const cJSON *res);

#endif

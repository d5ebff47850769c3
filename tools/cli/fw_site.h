/* fw_site.h: a beamloop-fw run folder (keys, allow-list, inventory) and the controller process,
 * for `beamloop run`, the live tests and the benchmark. */
#ifndef BL_FW_SITE_H
#define BL_FW_SITE_H

#include <stddef.h>
#include <sys/types.h>

#include "proto/fw_keys.h"

struct bl_fw_site {
	char dir[64];
	char hwdb[512];
	char inv[96], journal[96], key[96], allow[96], log[96];
	char fw_pub[BL_FW_KEY_Z85_LEN + 1];				   /* the controller's */
	char ag_pub[BL_FW_KEY_Z85_LEN + 1], ag_sec[BL_FW_KEY_Z85_LEN + 1]; /* the agent's */
};

/*
 * Creates /tmp/PREFIX-XXXXXX with the controller's key pair (fw.key/.pub), an agent key pair on
 * the allow-list, and the inventory of puck `puck`, slots 1..nslots, labelled as the barcode
 * simulator labels them (bl_bc_sim_code). 0, or a negative errno with the reason in err.
 */
int bl_fw_site_create(struct bl_fw_site *s, const char *prefix, const char *hwdb, int puck,
		      int nslots, char *err, size_t cap);

/* Rewrites the site's inventory for N pucks (ids PUCKS, NSLOTS slots each), labelled as the
 * barcode simulator labels them. 0 or a negative errno (ERR says). */
int bl_fw_site_inventory(struct bl_fw_site *s, const int *pucks, const int *nslots, int n,
			 char *err, size_t cap);

/*
 * Starts the controller at fw_path for the site: hwdb, inventory, journal, keys and allow-list,
 * then `extra` (NULL-terminated, may be NULL); its standard error goes to the site's fw.log.
 * Waits for its "ready ..." line (copied into ready, newline cut). The child dies with the
 * caller. Returns its pid, or a negative errno (it did not become ready).
 */
pid_t bl_fw_site_start(const struct bl_fw_site *s, const char *fw_path, const char *const *extra,
		       char *ready, size_t cap);

/* Sends sig to the controller and reaps it (pid <= 0: nothing). */
void bl_fw_site_stop(pid_t pid, int sig);

/* Removes the folder. 0 or -EIO. */
int bl_fw_site_remove(const struct bl_fw_site *s);

#endif

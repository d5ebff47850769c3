/* barcode_priv.h: the barcode handle's insides, shared by the reader implementations only. */
#ifndef BL_BARCODE_PRIV_H
#define BL_BARCODE_PRIV_H

#include "bl_barcode.h"

struct bl_stream;

struct bl_barcode {
	const struct bl_barcode_ops *ops;
	struct bl_hwdb_device dev;
	struct bl_hwdb_barcode_model model;
	struct bl_bc_rules rules;
	struct bl_barcode_stats stats;

	/* serial reader state */
	struct bl_stream *link;
	struct bl_bc_lines lines;
	bool pending;	   /* a trigger is out and no reply yet */
	uint64_t deadline; /* when the pending read times out */
	uint64_t retry_at; /* link down: next reconnect attempt */
	unsigned backoff_ms;
	bool was_connected;

	/* HID scanner state */
	void *usb; /* struct bl_hid_usb * */
};

/* Fills OUT from one reply LINE (NULL: an overlong reply was dropped) and counts the outcome.
 * Returns 1, the "result ready" value of poll. */
int bl_barcode_result(struct bl_barcode *bc, struct bl_barcode_result *out, const char *line,
		      size_t len);

#endif

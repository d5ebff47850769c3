/* hid_decode.h: decodes USB HID boot-keyboard reports from a keyboard-wedge barcode scanner into
 * text lines. */
#ifndef BL_HID_DECODE_H
#define BL_HID_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define BL_HID_LINE_MAX 128

struct bl_hid_decoder {
	uint8_t prev[6]; /* keys held in the previous report */
	char line[BL_HID_LINE_MAX];
	size_t len;
	int overflow;
};

void bl_hid_decoder_init(struct bl_hid_decoder *d);

/* Feeds one input report (8 bytes: modifiers, reserved, six key usages; a leading report ID
 * is accepted when LEN is 9). Returns 1 when Enter completed a line (d->line, NUL-terminated),
 * 0 otherwise, -EBADMSG for a malformed report (wrong length), -EMSGSIZE when a line overflowed
 * (it is dropped up to the next Enter). Keys are US layout. */
int bl_hid_decoder_feed(struct bl_hid_decoder *d, const uint8_t *report, size_t len);

#endif

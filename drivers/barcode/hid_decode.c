/* hid_decode.c: HID keyboard usage IDs (US layout, Shift) to characters, with press detection
 * across reports. */
#include "hid_decode.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define MOD_SHIFT    0x22 /* left (0x02) or right (0x20) Shift */
#define KEY_ENTER    0x28
#define KEY_KP_ENTER 0x58
#define KEY_ROLLOVER 0x01

/* Usages 0x1e..0x38 (digits and punctuation), unshifted and shifted. */
static const char plain[] = "1234567890\n\x1b\b\t -=[]\\#;'`,./";
static const char shifted[] = "!@#$%^&*()\n\x1b\b\t _+{}|~:\"~<>?";

static char usage_char(uint8_t u, bool shift)
{
	if (u >= 0x04 && u <= 0x1d)
		return (char)((shift ? 'A' : 'a') + (u - 0x04));
	if (u >= 0x1e && u <= 0x38) {
		const char *table = shift ? shifted : plain;
		char c = table[(unsigned)(u - 0x1e)];
		return c >= 0x20 ? c : 0; /* Enter, Escape, Backspace, Tab handled elsewhere */
	}
	if (u >= 0x59 && u <= 0x62) /* keypad 1..9, 0 */
		return u == 0x62 ? '0' : (char)('1' + (u - 0x59));
	return 0;
}

void bl_hid_decoder_init(struct bl_hid_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

static bool held_before(const struct bl_hid_decoder *d, uint8_t u)
{
	for (int i = 0; i < 6; i++)
		if (d->prev[i] == u)
			return true;
	return false;
}

int bl_hid_decoder_feed(struct bl_hid_decoder *d, const uint8_t *r, size_t len)
{
	if (len == 9)
		r++, len--; /* report ID first */
	if (len != 8)
		return -EBADMSG;
	const uint8_t *keys = r + 2;
	if (keys[0] == KEY_ROLLOVER)
		return 0; /* too many keys at once: the report carries no key information */
	bool shift = (r[0] & MOD_SHIFT) != 0;
	int result = 0;
	for (int i = 0; i < 6 && !result; i++) {
		uint8_t u = keys[i];
		if (!u || held_before(d, u))
			continue;
		if (u == KEY_ENTER || u == KEY_KP_ENTER) {
			if (d->overflow) {
				d->overflow = 0;
				d->len = 0;
				result = -EMSGSIZE;
				continue;
			}
			d->line[d->len] = 0;
			d->len = 0;
			result = 1;
			continue;
		}
		char c = usage_char(u, shift);
		if (!c || d->overflow)
			continue;
		if (d->len + 1 >= sizeof(d->line)) {
			d->overflow = 1;
			continue;
		}
		d->line[d->len++] = c;
	}
	memcpy(d->prev, keys, 6);
	return result;
}

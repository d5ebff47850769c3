/* barcode_proto.c: code validation (pattern, check digits) and line framing for serial barcode
 * readers. */
#include "barcode_proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int bl_bc_rules_init(struct bl_bc_rules *r, const struct bl_hwdb_barcode_model *m,
		     const struct bl_hwdb_barcode *cfg)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->no_read, sizeof(r->no_read), "%s", m->no_read);
	r->max_len =
	    m->max_len > 0 && m->max_len < BL_BARCODE_MAX ? (size_t)m->max_len : BL_BARCODE_MAX - 1;
	r->check = cfg ? cfg->check_digit : BL_CHECK_NONE;
	if (cfg && cfg->pattern[0]) {
		if (regcomp(&r->pattern, cfg->pattern, REG_EXTENDED | REG_NOSUB))
			return -EINVAL;
		r->has_pattern = true;
	}
	return 0;
}

void bl_bc_rules_free(struct bl_bc_rules *r)
{
	if (r->has_pattern)
		regfree(&r->pattern);
	r->has_pattern = false;
}

bool bl_bc_check_mod10(const char *code)
{
	size_t n = strlen(code);
	if (n < 2 || !isdigit((unsigned char)code[n - 1]))
		return false;
	int sum = 0, w = 3, digits = 0;
	for (size_t i = n - 1; i-- > 0;) {
		if (!isdigit((unsigned char)code[i]))
			continue;
		sum += (code[i] - '0') * w;
		w = 4 - w;
		digits++;
	}
	return digits > 0 && (10 - sum % 10) % 10 == code[n - 1] - '0';
}

int bl_bc_append_mod10(char *code, size_t cap)
{
	size_t n = strlen(code);
	if (n + 2 > cap)
		return -ENOSPC;
	int sum = 0, w = 3;
	for (size_t i = n; i-- > 0;) {
		if (!isdigit((unsigned char)code[i]))
			continue;
		sum += (code[i] - '0') * w;
		w = 4 - w;
	}
	code[n] = (char)('0' + (10 - sum % 10) % 10);
	code[n + 1] = 0;
	return 0;
}

static const char code39[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

bool bl_bc_check_mod43(const char *code)
{
	size_t n = strlen(code);
	if (n < 2)
		return false;
	int sum = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		const char *p = code[i] ? strchr(code39, code[i]) : NULL;
		if (!p)
			return false;
		sum += (int)(p - code39);
	}
	return code[n - 1] == code39[sum % 43];
}

void bl_bc_sim_code(int puck, int slot, char out[16])
{
	snprintf(out, 16, "BL%06d", (100000 + puck * 100 + slot) % 1000000);
	bl_bc_append_mod10(out, 16);
}

enum bl_bc_status bl_bc_classify(const struct bl_bc_rules *r, const char *line, size_t len,
				 char code[BL_BARCODE_MAX], const char **why)
{
	*why = NULL;
	if (r->no_read[0] && len == strlen(r->no_read) && !memcmp(line, r->no_read, len))
		return BL_BC_NOREAD;
	if (len == 0 || len > r->max_len) {
		*why = "length";
		return BL_BC_MISREAD;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isprint((unsigned char)line[i])) {
			*why = "bytes";
			return BL_BC_MISREAD;
		}
	}
	char tmp[BL_BARCODE_MAX];
	memcpy(tmp, line, len);
	tmp[len] = 0;
	if (r->has_pattern && regexec(&r->pattern, tmp, 0, NULL, 0)) {
		*why = "pattern";
		return BL_BC_MISREAD;
	}
	if ((r->check == BL_CHECK_MOD10 && !bl_bc_check_mod10(tmp)) ||
	    (r->check == BL_CHECK_MOD43 && !bl_bc_check_mod43(tmp))) {
		*why = "check digit";
		return BL_BC_MISREAD;
	}
	memcpy(code, tmp, len + 1);
	return BL_BC_OK;
}

void bl_bc_lines_init(struct bl_bc_lines *l, const char *term, size_t max_len)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->term, sizeof(l->term), "%s", term && *term ? term : "\r");
	l->max_len = max_len < sizeof(l->buf) - 8 ? max_len : sizeof(l->buf) - 8;
}

int bl_bc_lines_feed(struct bl_bc_lines *l, char c, size_t *len)
{
	size_t tl = strlen(l->term);
	if (l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = c;
	if (l->len >= tl && !memcmp(l->buf + l->len - tl, l->term, tl)) {
		size_t n = l->len - tl;
		bool dropped = l->overflow;
		l->len = 0;
		l->overflow = false;
		if (dropped)
			return 0; /* the tail of an overlong line: already reported */
		l->buf[n] = 0;
		*len = n;
		return 1;
	}
	/* a line may hold max_len characters plus a terminator still arriving */
	if (!l->overflow && l->len > l->max_len + tl - 1) {
		l->overflow = true;
		l->len = 0;
		return -EMSGSIZE;
	}
	if (l->overflow && l->len >= tl) { /* keep only what could start a terminator */
		memmove(l->buf, l->buf + l->len - (tl - 1), tl - 1);
		l->len = tl - 1;
	}
	return 0;
}

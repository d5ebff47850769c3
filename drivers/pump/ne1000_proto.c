/* ne1000_proto.c: NE-1000 reply parsing, command and number formatting. */
#include "ne1000_proto.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_ne_parse_reply(const char *p, size_t len, struct bl_ne_reply *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 5 || p[0] != BL_NE_STX || p[len - 1] != BL_NE_ETX)
		return -EBADMSG;
	if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
		return -EBADMSG;
	out->address = (p[1] - '0') * 10 + (p[2] - '0');
	size_t i = 3, end = len - 1;
	char st = p[i++];
	switch (st) {
	case 'I':
	case 'W':
	case 'S':
	case 'P':
	case 'T':
	case 'U':
	case 'X': out->state = (enum bl_ne_state)st; break;
	case 'A':
		if (i + 2 > end || p[i] != '?')
			return -EBADMSG;
		out->state = BL_NE_ALARM;
		switch (p[i + 1]) {
		case 'R':
		case 'S':
		case 'T':
		case 'E':
		case 'O': out->alarm = (enum bl_ne_alarm)p[i + 1]; break;
		default: return -EBADMSG;
		}
		i += 2;
		break;
	default: return -EBADMSG;
	}
	size_t n = end - i;
	if (n >= sizeof(out->data))
		return -EBADMSG;
	for (size_t k = i; k < end; k++)
		if (!isprint((unsigned char)p[k]))
			return -EBADMSG;
	if (n > 0 && p[i] == '?') {
		static const struct {
			const char *txt;
			enum bl_ne_error e;
		} errs[] = {{"?", BL_NE_ERR_UNKNOWN},
			    {"?NA", BL_NE_ERR_NA},
			    {"?OOR", BL_NE_ERR_OOR},
			    {"?COM", BL_NE_ERR_COM},
			    {"?IGN", BL_NE_ERR_IGN}};
		for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++)
			if (strlen(errs[k].txt) == n && !memcmp(p + i, errs[k].txt, n))
				out->error = errs[k].e;
		if (out->error == BL_NE_OK)
			return -EBADMSG;
		return 0;
	}
	memcpy(out->data, p + i, n);
	out->data[n] = 0;
	return 0;
}

int bl_ne_error_errno(enum bl_ne_error e)
{
	switch (e) {
	case BL_NE_OK: return 0;
	case BL_NE_ERR_UNKNOWN: return -EBADRQC;
	case BL_NE_ERR_NA: return -EPERM;
	case BL_NE_ERR_OOR: return -ERANGE;
	case BL_NE_ERR_COM: return -EPROTO;
	case BL_NE_ERR_IGN: return -EAGAIN;
	}
	return -EIO;
}

const char *bl_ne_error_name(enum bl_ne_error e)
{
	static const char *const names[] = {"ok", "?", "?NA", "?OOR", "?COM", "?IGN"};
	return (unsigned)e < 6 ? names[e] : "?";
}

int bl_ne_format_float(double v, char out[8])
{
	if (!(v >= 0) || v >= 9999.5)
		return -ERANGE;
	/* as many decimals as fit in 4 digits, at most 3 */
	int ip = v < 9.9995 ? 1 : v < 99.995 ? 2 : v < 999.95 ? 3 : 4;
	int dec = 4 - ip > 3 ? 3 : 4 - ip;
	snprintf(out, 8, "%.*f", dec, v);
	/* rounding may have added a digit (9.9996 -> "10.000"): redo with one decimal less */
	size_t digits = strlen(out) - (strchr(out, '.') ? 1 : 0);
	if (digits > 4 && dec > 0)
		snprintf(out, 8, "%.*f", dec - 1, v);
	return 0;
}

int bl_ne_format_rate(double ul_min, char *out, size_t cap)
{
	/* candidate units, finest resolution first: the value in that unit must fit <float> */
	static const struct {
		const char *u;
		double per_ul_min;
	} units[] = {{"UH", 60.0}, {"UM", 1.0}, {"MH", 0.06}, {"MM", 0.001}};
	if (!(ul_min > 0))
		return -ERANGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double v = ul_min * units[i].per_ul_min;
		if (v >= 9999.5)
			continue; /* the first unit the value fits in has the finest resolution */
		char f[8];
		if (bl_ne_format_float(v, f))
			continue;
		if (atof(f) <= 0)
			return -ERANGE; /* too small to express */
		snprintf(out, cap, "RAT%s%s", f, units[i].u);
		return 0;
	}
	return -ERANGE;
}

static double unit_to_ul_min(const char *u)
{
	if (!strcmp(u, "UM"))
		return 1.0;
	if (!strcmp(u, "MM"))
		return 1000.0;
	if (!strcmp(u, "UH"))
		return 1.0 / 60.0;
	if (!strcmp(u, "MH"))
		return 1000.0 / 60.0;
	return 0;
}

/* Parses a leading non-negative <float>; END points after it. */
static int parse_float(const char *s, double *v, const char **end)
{
	const char *p = s;
	int digits = 0, dots = 0;
	while (isdigit((unsigned char)*p) || *p == '.') {
		digits += *p != '.';
		dots += *p == '.';
		p++;
	}
	if (!digits || dots > 1 || p - s > 8)
		return -EBADMSG;
	*v = strtod(s, NULL);
	*end = p;
	return 0;
}

int bl_ne_parse_rate(const char *s, double *ul_min)
{
	double v;
	const char *u;
	if (parse_float(s, &v, &u))
		return -EBADMSG;
	double f = unit_to_ul_min(u);
	if (f == 0)
		return -EBADMSG;
	*ul_min = v * f;
	return 0;
}

int bl_ne_parse_volume(const char *s, double *ul)
{
	double v;
	const char *u;
	if (parse_float(s, &v, &u))
		return -EBADMSG;
	if (!strcmp(u, "UL"))
		*ul = v;
	else if (!strcmp(u, "ML"))
		*ul = v * 1000.0;
	else
		return -EBADMSG;
	return 0;
}

int bl_ne_parse_dispensed(const char *s, double *inf_ul, double *wdr_ul)
{
	double i, w;
	const char *p;
	if (s[0] != 'I' || parse_float(s + 1, &i, &p) || *p != 'W' || parse_float(p + 1, &w, &p))
		return -EBADMSG;
	double f = !strcmp(p, "UL") ? 1.0 : !strcmp(p, "ML") ? 1000.0 : 0.0;
	if (f == 0)
		return -EBADMSG;
	*inf_ul = i * f;
	*wdr_ul = w * f;
	return 0;
}

int bl_ne_format_command(int addr, const char *cmd, char *out, size_t cap)
{
	int n =
	    addr >= 0 ? snprintf(out, cap, "%d%s\r", addr, cmd) : snprintf(out, cap, "%s\r", cmd);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

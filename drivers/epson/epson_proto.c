/* epson_proto.c: formatting and strict parsing of Epson RC+ Remote Ethernet lines, status flags and
 * the remote error code table. Hand-written because the format is a few comma-separated fields. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "epson_proto.h"

static bool is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool is_printable(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int bad(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EBADMSG;
}

int bl_epson_parse_reply(const char *line, size_t len, struct bl_epson_reply *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	if (!line || len == 0)
		return bad(why, "empty reply");
	if (len > BL_EPSON_LINE_MAX)
		return bad(why, "reply too long");
	for (size_t i = 0; i < len; i++)
		if (!is_printable(line[i]))
			return bad(why, "control or non-ASCII byte in reply");
	if (line[0] != '#' && line[0] != '!')
		return bad(why, "reply does not begin with '#' or '!'");
	r->ok = line[0] == '#';
	size_t i = 1, n = 0;
	while (i < len && is_name_char(line[i])) {
		if (n + 1 >= sizeof(r->cmd))
			return bad(why, "command name too long");
		r->cmd[n++] = line[i++];
	}
	if (n == 0)
		return bad(why, "reply without a command name");
	if (i < len && line[i] != ',')
		return bad(why, "unexpected character after the command name");
	while (i < len) {
		i++; /* the comma */
		if (r->nfields == BL_EPSON_MAX_ARGS)
			return bad(why, "too many fields");
		char *f = r->fields[r->nfields++];
		size_t k = 0;
		while (i < len && line[i] != ',') {
			if (k + 1 >= BL_EPSON_ARG_MAX)
				return bad(why, "field too long");
			f[k++] = line[i++];
		}
	}
	if (!r->ok) {
		const char *c = r->nfields == 1 ? r->fields[0] : "";
		size_t cl = strlen(c);
		if (cl < 1 || cl > 3)
			return bad(why, "error reply without a 1-3 digit code");
		int code = 0;
		for (size_t k = 0; k < cl; k++) {
			if (c[k] < '0' || c[k] > '9')
				return bad(why, "error code is not a number");
			code = code * 10 + (c[k] - '0');
		}
		if (code == 0)
			return bad(why, "error reply with code 0");
		r->code = code;
	}
	return 0;
}

int bl_epson_parse_request(const char *line, size_t len, struct bl_epson_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	size_t i = 0, n = 0;
	bool dollar = len > 0 && line[0] == '$';
	if (dollar)
		i++;
	while (i < len && is_name_char(line[i]) && n + 1 < sizeof(rq->cmd))
		rq->cmd[n++] = line[i++];
	if (!dollar)
		return BL_EPSON_E_NO_DOLLAR;
	if (len > BL_EPSON_LINE_MAX)
		return BL_EPSON_E_SYSTEM; /* overran the controller's receive buffer */
	if (n == 0 || (i < len && is_name_char(line[i])))
		return BL_EPSON_E_BAD_CMD;
	if (i < len && line[i] != ',')
		return BL_EPSON_E_FORMAT;
	while (i < len) {
		i++; /* the comma */
		if (rq->nargs == BL_EPSON_MAX_ARGS)
			return BL_EPSON_E_FORMAT;
		size_t a = rq->nargs++;
		char *out = rq->args[a];
		size_t k = 0;
		if (i < len && line[i] == '"') {
			rq->quoted[a] = true;
			i++;
			while (i < len && line[i] != '"') {
				if (!is_printable(line[i]) || k + 1 >= BL_EPSON_ARG_MAX)
					return BL_EPSON_E_FORMAT;
				out[k++] = line[i++];
			}
			if (i >= len)
				return BL_EPSON_E_FORMAT; /* unterminated string */
			i++;
			if (i < len && line[i] != ',')
				return BL_EPSON_E_FORMAT;
			continue;
		}
		while (i < len && line[i] != ',') {
			if (!is_printable(line[i]) || line[i] == '"' || k + 1 >= BL_EPSON_ARG_MAX)
				return BL_EPSON_E_FORMAT;
			out[k++] = line[i++];
		}
		if (k == 0)
			return BL_EPSON_E_FORMAT; /* empty argument */
	}
	return 0;
}

static bool clean(const char *s, bool allow_quote)
{
	for (; s && *s; s++)
		if (!is_printable(*s) || (!allow_quote && *s == '"'))
			return false;
	return true;
}

int bl_epson_format_cmd(char *buf, size_t cap, const char *term, const char *cmd, const char *args)
{
	if (!cmd || !*cmd || !clean(cmd, false) || !clean(args, true))
		return -EINVAL;
	int n = snprintf(buf, cap, "$%s%s%s%s", cmd, args ? "," : "", args ? args : "", term);
	if (n < 0 || (size_t)n >= cap || (size_t)n - strlen(term) > BL_EPSON_LINE_MAX)
		return -ENOSPC;
	return n;
}

int bl_epson_format_execute(char *buf, size_t cap, const char *term, const char *spel)
{
	if (!spel || !*spel || !clean(spel, false))
		return -EINVAL;
	char arg[BL_EPSON_ARG_MAX];
	int n = snprintf(arg, sizeof(arg), "\"%s\"", spel);
	if (n < 0 || (size_t)n >= sizeof(arg))
		return -ENOSPC;
	return bl_epson_format_cmd(buf, cap, term, "Execute", arg);
}

int bl_epson_format_reply(char *buf, size_t cap, const char *term, const char *cmd, bool ok,
			  int code, const char *data)
{
	int n;
	if (ok)
		n = snprintf(buf, cap, "#%s%s%s%s", cmd, data ? "," : "", data ? data : "", term);
	else
		n = snprintf(buf, cap, "!%s,%02d%s", cmd, code, term);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int bl_epson_parse_status(const struct bl_epson_reply *r, struct bl_epson_status *st)
{
	memset(st, 0, sizeof(*st));
	if (!r->ok || strcmp(r->cmd, "GetStatus") || r->nfields != 2)
		return -EBADMSG;
	const char *f = r->fields[0], *c = r->fields[1];
	if (strlen(f) != BL_EPSON_NFLAGS || strlen(c) != 4)
		return -EBADMSG;
	for (int i = 0; i < BL_EPSON_NFLAGS; i++) {
		if (f[i] != '0' && f[i] != '1')
			return -EBADMSG;
		if (f[i] == '1')
			st->flags |= BL_EPSON_FLAG(i);
	}
	for (int i = 0; i < 4; i++) {
		if (c[i] < '0' || c[i] > '9')
			return -EBADMSG;
		st->code = st->code * 10 + (c[i] - '0');
	}
	return 0;
}

void bl_epson_format_status(char *buf, size_t cap, const struct bl_epson_status *st)
{
	char f[BL_EPSON_NFLAGS + 1];
	for (int i = 0; i < BL_EPSON_NFLAGS; i++)
		f[i] = (st->flags & BL_EPSON_FLAG(i)) ? '1' : '0';
	f[BL_EPSON_NFLAGS] = 0;
	snprintf(buf, cap, "%s,%04d", f, st->code % 10000);
}

static const struct {
	int code;
	int err;
	const char *text;
} remote_errors[] = {
    {BL_EPSON_E_NO_DOLLAR, -EPROTO, "remote command does not begin with '$'"},
    {BL_EPSON_E_BAD_CMD, -EBADRQC, "remote command is wrong or not executable"},
    {BL_EPSON_E_FORMAT, -EINVAL, "remote command format or parameter is wrong"},
    {BL_EPSON_E_PASSWORD, -EACCES, "login password is incorrect"},
    {BL_EPSON_E_PRIVILEGE, -EPERM, "cannot execute with the session's low (monitor) privilege"},
    {BL_EPSON_E_STATE, -EOPNOTSUPP, "cannot execute in the current state or parameter missing"},
    {BL_EPSON_E_TIMEOUT, -ETIMEDOUT, "request time-out"},
    {BL_EPSON_E_NOT_READY, -EAGAIN, "controller is not ready"},
    {BL_EPSON_E_RUNNING, -EBUSY, "cannot execute while a program or motion is running"},
    {BL_EPSON_E_LOGIN, -ENOKEY, "login required"},
    {BL_EPSON_E_SYSTEM, -EIO, "system or communication error"},
};

int bl_epson_errno(int code)
{
	for (size_t i = 0; i < sizeof(remote_errors) / sizeof(remote_errors[0]); i++)
		if (remote_errors[i].code == code)
			return remote_errors[i].err;
	return -EIO;
}

const char *bl_epson_strerror(int code)
{
	for (size_t i = 0; i < sizeof(remote_errors) / sizeof(remote_errors[0]); i++)
		if (remote_errors[i].code == code)
			return remote_errors[i].text;
	return "unknown remote error";
}

const char *bl_epson_robot_strerror(int code)
{
	switch (code) {
	case 0: return "no error";
	case BL_EPSON_RERR_RANGE: return "target outside the motion range";
	case BL_EPSON_RERR_MOTOR_OFF: return "motion commanded with motors off";
	case BL_EPSON_RERR_PLACE: return "sample released onto an occupied position";
	case BL_EPSON_RERR_COLLISION: return "collision detected";
	default: return "controller error";
	}
}

const char *bl_epson_flag_name(enum bl_epson_flag f)
{
	static const char *const names[BL_EPSON_NFLAGS] = {
	    "Test",  "Teach", "Auto",	"Warning", "SError", "Safeguard",
	    "EStop", "Error", "Paused", "Running", "Ready"};
	return (unsigned)f < BL_EPSON_NFLAGS ? names[f] : "?";
}

int bl_epson_unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in; in++) {
		char c = *in;
		if (c == '\\') {
			in++;
			switch (*in) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '\\': c = '\\'; break;
			default: return -EINVAL;
			}
		}
		if (n + 1 >= cap)
			return -ENOSPC;
		out[n++] = c;
	}
	if (n == 0)
		return -EINVAL;
	out[n] = 0;
	return 0;
}

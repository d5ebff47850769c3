/* epson_proto.h: Epson RC+ Remote Ethernet wire format (commands, replies, status flags, error
 * codes), shared by the driver and its simulator. */
#ifndef BL_EPSON_PROTO_H
#define BL_EPSON_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define BL_EPSON_LINE_MAX 256 /* longest command or reply line, terminator excluded */
#define BL_EPSON_CMD_MAX  24  /* longest command name */
#define BL_EPSON_MAX_ARGS 8
#define BL_EPSON_ARG_MAX  192
#define BL_EPSON_TERM_MAX 8
#define BL_EPSON_DEF_TERM "\r\n"

/* Remote error codes of an "!Cmd,NN" reply. */
enum {
	BL_EPSON_E_NO_DOLLAR = 10, /* command does not begin with '$' */
	BL_EPSON_E_BAD_CMD = 11,   /* command wrong / not executable */
	BL_EPSON_E_FORMAT = 12,	   /* wrong format or parameter */
	BL_EPSON_E_PASSWORD = 13,  /* login password incorrect */
	BL_EPSON_E_PRIVILEGE = 14, /* cannot execute with the session's (monitor) privilege */
	BL_EPSON_E_STATE = 15,	   /* cannot execute in the current state / no such parameter */
	BL_EPSON_E_TIMEOUT = 19,   /* request time-out (command line not completed in time) */
	BL_EPSON_E_NOT_READY = 20, /* controller not ready (error, e-stop, safeguard) */
	BL_EPSON_E_RUNNING = 21,   /* cannot execute while a program or $Execute is running */
	BL_EPSON_E_LOGIN = 98,	   /* login required */
	BL_EPSON_E_SYSTEM = 99,	   /* system / communication error (also: motion ended in error) */
};

/* Robot (controller) error codes behind the 4-digit field of $GetStatus. The controller has
 * hundreds; these are the ones the simulator raises and the driver names. */
enum {
	BL_EPSON_RERR_RANGE = 4001,	/* target outside the motion range */
	BL_EPSON_RERR_MOTOR_OFF = 4003, /* motion commanded with motors off */
	BL_EPSON_RERR_PLACE = 4300,	/* released a sample onto an occupied position */
	BL_EPSON_RERR_COLLISION = 5057, /* collision detected */
};

/* The 11 status flags of "#GetStatus,<flags>,<code>", in wire order. */
enum bl_epson_flag {
	BL_EPSON_F_TEST,
	BL_EPSON_F_TEACH,
	BL_EPSON_F_AUTO,
	BL_EPSON_F_WARNING,
	BL_EPSON_F_SERROR,
	BL_EPSON_F_SAFEGUARD,
	BL_EPSON_F_ESTOP,
	BL_EPSON_F_ERROR,
	BL_EPSON_F_PAUSED,
	BL_EPSON_F_RUNNING,
	BL_EPSON_F_READY,
	BL_EPSON_NFLAGS
};
#define BL_EPSON_FLAG(f) (1u << (f))

struct bl_epson_status {
	unsigned flags; /* BL_EPSON_FLAG() bits */
	int code;	/* error or warning code, 0 when none */
};

/* A parsed reply line. */
struct bl_epson_reply {
	bool ok;		    /* '#' reply; false for '!' */
	char cmd[BL_EPSON_CMD_MAX]; /* command name without the prefix */
	int code;		    /* remote error code of a '!' reply, 0 for '#' */
	size_t nfields;		    /* data fields after the command name */
	char fields[BL_EPSON_MAX_ARGS][BL_EPSON_ARG_MAX];
};

/* A parsed command line (what the controller receives). */
struct bl_epson_request {
	char cmd[BL_EPSON_CMD_MAX]; /* name without '$' */
	size_t nargs;
	char args[BL_EPSON_MAX_ARGS][BL_EPSON_ARG_MAX]; /* quotes of a quoted argument removed */
	bool quoted[BL_EPSON_MAX_ARGS];
};

/* Parses one reply line (terminator stripped). 0, or -EBADMSG with a reason in WHY (may be NULL).
 */
int bl_epson_parse_reply(const char *line, size_t len, struct bl_epson_reply *r, const char **why);

/* Parses one command line. 0, or the remote error code the controller answers with (10 or 12);
 * RQ->cmd is filled as far as it could be read, for the "!Cmd,NN" answer. */
int bl_epson_parse_request(const char *line, size_t len, struct bl_epson_request *rq);

/* Writes "$CMD[,ARGS]TERM" into BUF. Length, or -ENOSPC / -EINVAL (control characters). */
int bl_epson_format_cmd(char *buf, size_t cap, const char *term, const char *cmd, const char *args);

/* Writes "$Execute,\"SPEL\"TERM". -EINVAL if SPEL holds a quote or a control character. */
int bl_epson_format_execute(char *buf, size_t cap, const char *term, const char *spel);

/* Writes a reply: "#CMD[,DATA]TERM" (ok) or "!CMD,NNTERM". Length or -ENOSPC. */
int bl_epson_format_reply(char *buf, size_t cap, const char *term, const char *cmd, bool ok,
			  int code, const char *data);

/* Reads the status fields of a "#GetStatus" reply. 0 or -EBADMSG. */
int bl_epson_parse_status(const struct bl_epson_reply *r, struct bl_epson_status *st);

/* Writes the status fields "ffffffffff,cccc" into BUF (at least 17 bytes). */
void bl_epson_format_status(char *buf, size_t cap, const struct bl_epson_status *st);

/* The negative errno a remote error code maps to, and its text ("unknown remote error" else). */
int bl_epson_errno(int code);
const char *bl_epson_strerror(int code);

/* Text of a controller error code of $GetStatus ("controller error" for codes not in the table). */
const char *bl_epson_robot_strerror(int code);

const char *bl_epson_flag_name(enum bl_epson_flag f);

/* Unescapes "\r", "\n", "\t", "\\" in IN into OUT (a terminator given on a command line). */
int bl_epson_unescape(const char *in, char *out, size_t cap);

#endif

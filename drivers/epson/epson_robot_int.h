/* epson_robot_int.h: the Epson driver's private handle, shared by its link layer (epson_link.c)
 * and its operation sequencer (epson_robot.c). */
#ifndef BL_EPSON_ROBOT_INT_H
#define BL_EPSON_ROBOT_INT_H

#include <sys/socket.h>

#include "epson_robot.h"

#define EPSON_MAX_STEPS	  40
#define EPSON_MAX_PENDING 4
#define EPSON_RX_MAX	  (2 * BL_EPSON_LINE_MAX)
#define EPSON_TX_MAX	  (4 * BL_EPSON_LINE_MAX)

enum epson_step_kind {
	ST_CONNECT, /* open the TCP connection */
	ST_LOGIN,   /* $Login,<password> */
	ST_STATUS,  /* $GetStatus */
	ST_CMD,	    /* any command; reply data kept in the result */
	ST_MOVE,    /* $Execute of a motion; success confirms the new location */
	ST_GRIP,    /* $SetIO of the gripper bit */
	ST_SENSE,   /* $GetIO of the gripper sensor, compared with expect */
	ST_DIAG,    /* $GetStatus after a failed motion, to read the controller error */
	ST_PROBE,   /* $GetIO of the gripper sensor at login: is a sample already held? */
};

struct epson_step {
	enum epson_step_kind kind;
	char line[BL_EPSON_LINE_MAX + 1]; /* without terminator */
	bool motion;			  /* motion time-out applies */
	struct bl_robot_where after;	  /* ST_MOVE: confirmed location on success */
	int value;			  /* ST_GRIP: 1 close, 0 open; ST_SENSE: expected input */
	enum bl_robot_sample_at prev_at;  /* ST_GRIP: where the sample was before */
	struct bl_robot_where at;	  /* ST_GRIP: where the gripper changed */
};

enum epson_owner { OWN_OP, OWN_HEARTBEAT, OWN_OOB };

struct epson_pending {
	bool used;
	char cmd[BL_EPSON_CMD_MAX];
	enum epson_owner owner;
	int64_t deadline;
};

struct bl_epson {
	struct bl_epson_config cfg;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int idx_home, idx_pucks, idx_reader, idx_stage; /* safe pose indexes */

	int fd;
	bool connecting, logged_in;
	int64_t connect_deadline;
	char rx[EPSON_RX_MAX];
	size_t rxlen;
	char tx[EPSON_TX_MAX];
	size_t txlen;
	struct epson_pending pend[EPSON_MAX_PENDING];
	int64_t last_tx_ms;

	bool op_active, op_internal, step_sent, aborted;
	struct epson_step steps[EPSON_MAX_STEPS];
	int nsteps, cur;
	int last_rc;
	struct bl_robot_result res;

	bool want_link; /* reconnect automatically after a loss */
	int backoff_ms;
	int64_t next_retry_ms;
	uint32_t connects, link_losses;

	struct bl_epson_status status;
	struct bl_robot_where where;
	bool off_pose;
	struct bl_robot_sample sample;
};

/* epson_link.c */
int epson_link_start(struct bl_epson *h, int64_t now_ms);
void epson_link_close(struct bl_epson *h);
/* Closes the link after a transport failure, fails the running op with RC, schedules a retry. */
void epson_link_fail(struct bl_epson *h, int rc, const char *text, int64_t now_ms);
int epson_link_send(struct bl_epson *h, const char *line, enum epson_owner owner, int timeout_ms,
		    int64_t now_ms);
/* Moves bytes and checks deadlines; completed replies go to epson_on_reply(). */
void epson_link_io(struct bl_epson *h, int64_t now_ms);
void epson_link_background(struct bl_epson *h, int64_t now_ms);

/* epson_robot.c */
void epson_on_reply(struct bl_epson *h, enum epson_owner owner, const struct bl_epson_reply *r,
		    int64_t now_ms);
void epson_on_connected(struct bl_epson *h, int64_t now_ms);
void epson_op_finish(struct bl_epson *h, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int epson_start_connect_op(struct bl_epson *h, bool internal, int64_t now_ms);
void epson_op_advance(struct bl_epson *h, int64_t now_ms);

#endif

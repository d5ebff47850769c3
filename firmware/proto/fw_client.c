/* fw_client.c: the controller client: CURVE DEALER for calls matched by id, CURVE SUB for events.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "proto/fw_client.h"
#include "proto/fw_keys.h"

#define MAX_TOPICS 32

struct seen_topic {
	char name[BL_FW_TOPIC_MAX + 1];
	uint64_t seq;
};

struct bl_fw_client {
	void *zctx, *dealer, *mon, *sub;
	char cmd_ep[256], event_ep[256];
	uint8_t server_key[32], public_key[32], secret_key[32];
	uint64_t next_id;
	int auth; /* last handshake: 1 accepted, -1 refused, 0 not yet */
	char error[256];
	struct bl_fw_client_stats st;
	struct seen_topic topics[MAX_TOPICS];
	int ntopics;
};

static void seterr(struct bl_fw_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void seterr(struct bl_fw_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

static int zerr(void)
{
	int e = zmq_errno();
	return e ? -e : -EIO;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int curve_client(struct bl_fw_client *c, void *sock)
{
	int linger = 0;
	if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->server_key, 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->public_key, 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->secret_key, 32))
		return zerr();
	return 0;
}

int bl_fw_client_open(struct bl_fw_client **out, const struct bl_fw_client_config *cfg)
{
	*out = NULL;
	struct bl_fw_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (!cfg || !bl_fw_key_decode(cfg->server_key, c->server_key) ||
	    !bl_fw_key_decode(cfg->public_key, c->public_key) ||
	    !bl_fw_key_decode(cfg->secret_key, c->secret_key)) {
		free(c);
		return -EINVAL;
	}
	snprintf(c->cmd_ep, sizeof(c->cmd_ep), "%s",
		 cfg->endpoint ? cfg->endpoint : BL_FW_CMD_ENDPOINT);
	snprintf(c->event_ep, sizeof(c->event_ep), "%s",
		 cfg->event_endpoint ? cfg->event_endpoint : BL_FW_EVT_ENDPOINT);
	int rc;
	char monep[64];
	snprintf(monep, sizeof(monep), "inproc://bl-fw-client-%p", (void *)c);
	c->zctx = zmq_ctx_new();
	if (!c->zctx || !(c->dealer = zmq_socket(c->zctx, ZMQ_DEALER))) {
		rc = zerr();
		goto fail;
	}
	if ((rc = curve_client(c, c->dealer)))
		goto fail;
	/* The handshake outcome, to tell "refused" from "silent". */
	if (zmq_socket_monitor(c->dealer, monep,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) ||
	    !(c->mon = zmq_socket(c->zctx, ZMQ_PAIR)) || zmq_connect(c->mon, monep) ||
	    zmq_connect(c->dealer, c->cmd_ep)) {
		rc = zerr();
		goto fail;
	}
	int linger = 0;
	zmq_setsockopt(c->mon, ZMQ_LINGER, &linger, sizeof(linger));
	*out = c;
	return 0;
fail:
	bl_fw_client_close(c);
	return rc;
}

void bl_fw_client_close(struct bl_fw_client *c)
{
	if (!c)
		return;
	if (c->sub)
		zmq_close(c->sub);
	if (c->dealer)
		zmq_close(c->dealer);
	if (c->mon)
		zmq_close(c->mon);
	if (c->zctx)
		zmq_ctx_term(c->zctx);
	memset(c->secret_key, 0, sizeof(c->secret_key));
	free(c);
}

const char *bl_fw_client_error(const struct bl_fw_client *c)
{
	return c->error;
}

void bl_fw_client_stats(const struct bl_fw_client *c, struct bl_fw_client_stats *out)
{
	*out = c->st;
}

/* Reads the handshake events waiting; returns true when one was a refusal. */
static bool drain_monitor(struct bl_fw_client *c)
{
	bool refused = false;
	for (;;) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return refused;
		}
		uint16_t event = 0;
		if (zmq_msg_size(&m) >= 2)
			memcpy(&event, zmq_msg_data(&m), 2);
		int more = zmq_msg_more(&m);
		zmq_msg_close(&m);
		while (more) { /* the endpoint frame */
			zmq_msg_init(&m);
			more = zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			c->auth = 1;
		} else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
			c->auth = -1;
			c->st.auth_refused++;
			refused = true;
		}
	}
}

/* Receives one frame from the dealer (more frames are dropped); NULL when none or not JSON. */
static cJSON *recv_reply(struct bl_fw_client *c)
{
	zmq_msg_t m;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->dealer, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLength(zmq_msg_data(&m), zmq_msg_size(&m));
	int more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	while (more) {
		zmq_msg_init(&m);
		more = zmq_msg_recv(&m, c->dealer, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		c->st.bad_replies++;
		return NULL;
	}
	return root;
}

/* Waits for a reply: with want_id != NULL the one carrying that id, else the first. Returns 0
 * with *root, -ETIMEDOUT, -EACCES or a ZMQ error. */
static int wait_reply(struct bl_fw_client *c, const uint64_t *want_id, int timeout_ms, cJSON **root)
{
	int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	*root = NULL;
	for (;;) {
		zmq_pollitem_t it[2] = {{.socket = c->dealer, .events = ZMQ_POLLIN},
					{.socket = c->mon, .events = ZMQ_POLLIN}};
		int64_t left = timeout_ms < 0 ? 1 : deadline - now_ms(); /* < 0: no deadline */
		int rc = zmq_poll(it, 2, timeout_ms < 0 ? -1 : left > 0 ? (long)left : 0);
		if (rc < 0 && zmq_errno() != EINTR)
			return zerr();
		if (it[1].revents && drain_monitor(c)) {
			c->st.timeouts++;
			seterr(c,
			       "the controller refused this client's key (not on its allow-list)");
			return -EACCES;
		}
		if (it[0].revents) {
			cJSON *r = recv_reply(c);
			if (r && !want_id) {
				*root = r;
				return 0;
			}
			if (r) {
				const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
				if (cJSON_IsNumber(id) && id->valuedouble == (double)*want_id) {
					*root = r;
					return 0;
				}
				c->st.stale_replies++;
				cJSON_Delete(r);
			}
			continue;
		}
		if (left <= 0) {
			c->st.timeouts++;
			drain_monitor(c);
			if (c->auth < 0) {
				seterr(c, "no reply: the controller refuses this client's key");
				return -EACCES;
			}
			seterr(c, "no reply within %d ms", timeout_ms);
			return -ETIMEDOUT;
		}
	}
}

/* After a refusal libzmq drops that connection for good (an authentication failure is a
 * protocol error: no reconnect), and what was queued on it. Connect again, so that each call
 * after a refusal tries one fresh handshake: a key let in meanwhile works, one still unknown is
 * refused again within milliseconds. */
static int reconnect(struct bl_fw_client *c)
{
	zmq_disconnect(c->dealer, c->cmd_ep); /* may already be gone */
	c->auth = 0;
	return zmq_connect(c->dealer, c->cmd_ep) ? zerr() : 0;
}

static int send_text(struct bl_fw_client *c, const void *text, size_t len)
{
	drain_monitor(c); /* events from before this call are history */
	int rc = c->auth < 0 ? reconnect(c) : 0;
	c->st.calls++;
	if (!rc && zmq_send(c->dealer, text, len, ZMQ_DONTWAIT) < 0) {
		rc = zerr();
		drain_monitor(c); /* refused just now (no pipe left): once more */
		if (rc == -EAGAIN && c->auth < 0 && !(rc = reconnect(c)) &&
		    zmq_send(c->dealer, text, len, ZMQ_DONTWAIT) < 0)
			rc = zerr();
	}
	if (rc)
		seterr(c, "send: %s", zmq_strerror(-rc));
	return rc;
}

int bl_fw_client_call_raw(struct bl_fw_client *c, const void *text, size_t len, int timeout_ms,
			  cJSON **reply)
{
	c->error[0] = 0;
	int rc = send_text(c, text, len);
	return rc ? rc : wait_reply(c, NULL, timeout_ms, reply);
}

int bl_fw_client_call(struct bl_fw_client *c, const char *cmd, const cJSON *args, int timeout_ms,
		      cJSON **reply)
{
	cJSON *dummy = NULL, **out = reply ? reply : &dummy;
	*out = NULL;
	c->error[0] = 0;
	if (!cmd || !cmd[0] || strlen(cmd) > BL_FW_CMD_MAX || (args && !cJSON_IsObject(args))) {
		seterr(c, "bad command name or arguments (an object)");
		return -EINVAL;
	}
	uint64_t id = ++c->next_id;
	cJSON *req = cJSON_CreateObject();
	char *text = NULL;
	/* args by reference: the caller's object is neither copied nor taken. */
	if (!req || !bl_fw_json_add_u64(req, "id", id) ||
	    !cJSON_AddStringToObject(req, "cmd", cmd) ||
	    (args && !cJSON_AddItemReferenceToObject(req, "args", (cJSON *)args)) ||
	    !(text = cJSON_PrintUnformatted(req))) {
		cJSON_Delete(req);
		return -ENOMEM;
	}
	cJSON_Delete(req);
	size_t len = strlen(text);
	if (len > BL_FW_REQUEST_MAX) {
		seterr(c, "request of %zu bytes, at most %d", len, BL_FW_REQUEST_MAX);
		free(text);
		return -E2BIG;
	}
	int rc = send_text(c, text, len);
	free(text);
	cJSON *root = NULL;
	if (!rc)
		rc = wait_reply(c, &id, timeout_ms, &root);
	if (rc)
		return rc;
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	if (cJSON_IsTrue(ok)) {
		*out = cJSON_DetachItemFromObjectCaseSensitive(root, "result");
		cJSON_Delete(root);
		if (!*out)
			*out = cJSON_CreateObject();
		if (!reply)
			cJSON_Delete(dummy);
		return 0;
	}
	cJSON *err = cJSON_DetachItemFromObjectCaseSensitive(root, "error");
	cJSON_Delete(root);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (!cJSON_IsFalse(ok) || !cJSON_IsNumber(code) || code->valuedouble < 1 ||
	    code->valuedouble > 4095) {
		cJSON_Delete(err);
		c->st.bad_replies++;
		seterr(c, "malformed reply to \"%s\"", cmd);
		return -EPROTO;
	}
	rc = -(int)code->valuedouble;
	seterr(c, "%s: %s", cmd, cJSON_IsString(msg) ? msg->valuestring : strerror(-rc));
	*out = err;
	if (!reply)
		cJSON_Delete(dummy);
	return rc;
}

int bl_fw_client_call_json(struct bl_fw_client *c, const char *cmd, const char *args_json,
			   int timeout_ms, cJSON **reply)
{
	if (reply)
		*reply = NULL;
	cJSON *args = NULL;
	if (args_json && args_json[0]) {
		args = cJSON_Parse(args_json);
		if (!cJSON_IsObject(args)) {
			cJSON_Delete(args);
			seterr(c, "arguments are not a JSON object: %s", args_json);
			return -EINVAL;
		}
	}
	int rc = bl_fw_client_call(c, cmd, args, timeout_ms, reply);
	cJSON_Delete(args);
	return rc;
}

/* ---- events ---- */

static int ensure_sub(struct bl_fw_client *c)
{
	if (c->sub)
		return 0;
	c->sub = zmq_socket(c->zctx, ZMQ_SUB);
	int rc;
	if (!c->sub)
		return zerr();
	if ((rc = curve_client(c, c->sub)) || (zmq_connect(c->sub, c->event_ep) && (rc = zerr()))) {
		zmq_close(c->sub);
		c->sub = NULL;
		return rc;
	}
	return 0;
}

int bl_fw_client_subscribe(struct bl_fw_client *c, const char *topic)
{
	int rc = ensure_sub(c);
	if (rc)
		return rc;
	if (zmq_setsockopt(c->sub, ZMQ_SUBSCRIBE, topic ? topic : "", topic ? strlen(topic) : 0))
		return zerr();
	return 0;
}

int bl_fw_client_unsubscribe(struct bl_fw_client *c, const char *topic)
{
	if (!c->sub)
		return -ENOTCONN;
	if (zmq_setsockopt(c->sub, ZMQ_UNSUBSCRIBE, topic ? topic : "", topic ? strlen(topic) : 0))
		return zerr();
	return 0;
}

void bl_fw_event_clear(struct bl_fw_event *ev)
{
	cJSON_Delete(ev->data);
	memset(ev, 0, sizeof(*ev));
}

/* Updates the topic's last seq; returns how many events were skipped. */
static uint64_t note_seq(struct bl_fw_client *c, const char *topic, uint64_t seq)
{
	struct seen_topic *t = NULL;
	for (int i = 0; i < c->ntopics && !t; i++)
		if (!strcmp(c->topics[i].name, topic))
			t = &c->topics[i];
	if (!t && c->ntopics < MAX_TOPICS) {
		t = &c->topics[c->ntopics++];
		snprintf(t->name, sizeof(t->name), "%s", topic);
		t->seq = 0;
	}
	if (!t)
		return 0;
	/* seq going back means the controller restarted: its count starts again from 1. */
	uint64_t missed = seq > t->seq ? seq - t->seq - 1 : seq - 1;
	t->seq = seq;
	return missed;
}

int bl_fw_client_event(struct bl_fw_client *c, int timeout_ms, struct bl_fw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!c->sub) {
		seterr(c, "nothing subscribed");
		return -ENOTCONN;
	}
	zmq_pollitem_t it = {.socket = c->sub, .events = ZMQ_POLLIN};
	int rc = zmq_poll(&it, 1, timeout_ms);
	if (rc < 0)
		return zerr();
	if (rc == 0) {
		seterr(c, "no event within %d ms", timeout_ms);
		return -ETIMEDOUT;
	}
	zmq_msg_t f[2];
	int nf = 0, more = 1;
	while (more) {
		zmq_msg_t spare, *m = nf < 2 ? &f[nf] : &spare;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, c->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(m);
			break;
		}
		more = zmq_msg_more(m);
		if (m == &spare)
			zmq_msg_close(m);
		else
			nf++;
	}
	cJSON *root =
	    nf == 2 ? cJSON_ParseWithLength(zmq_msg_data(&f[1]), zmq_msg_size(&f[1])) : NULL;
	size_t tlen = nf ? zmq_msg_size(&f[0]) : 0;
	for (int i = 0; i < nf; i++)
		zmq_msg_close(&f[i]);
	const cJSON *topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "t");
	if (!cJSON_IsString(topic) || strlen(topic->valuestring) != tlen || tlen == 0 ||
	    tlen > BL_FW_TOPIC_MAX || !cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
	    !cJSON_IsNumber(t)) {
		cJSON_Delete(root);
		c->st.bad_events++;
		seterr(c, "malformed event dropped");
		return -EBADMSG;
	}
	memcpy(ev->topic, topic->valuestring, tlen + 1);
	ev->seq = (uint64_t)seq->valuedouble;
	ev->time = t->valuedouble > 0 ? (uint64_t)t->valuedouble : 0;
	ev->data = cJSON_DetachItemFromObjectCaseSensitive(root, "data");
	if (!ev->data)
		ev->data = cJSON_CreateNull();
	cJSON_Delete(root);
	ev->missed = note_seq(c, ev->topic, ev->seq);
	c->st.events++;
	c->st.events_missed += ev->missed;
	return 0;
}

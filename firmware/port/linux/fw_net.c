/* fw_net.c: the controller's command ROUTER and event PUB behind CurveZMQ, with its ZAP handler. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "port/linux/fw_net.h"

/*
 * Authentication. libzmq does CURVE itself but leaves the decision "is this key allowed" to a ZAP
 * handler (RFC 27) that the application serves on inproc://zeromq.zap.01; libzmq has none of its
 * own. CZMQ's zauth actor is the usual ready-made one, but CZMQ is not among the project's
 * dependencies, and zauth would bring an actor thread, its own certificate-store format and
 * logging for what is here one REP socket and a key comparison (about 100 lines). So the handler
 * is written here: it answers 200 (with the Z85 key as User-Id, which reaches every request's
 * metadata) for keys on the allow-list, 400 otherwise, and logs each refused key once.
 */

#define ZAP_ENDPOINT   "inproc://zeromq.zap.01"
#define REFUSED_LOGGED 64 /* distinct refused keys remembered to log each once */
#define MAX_TOPICS     32
#define MAX_FRAMES     4

struct topic {
	char name[BL_FW_TOPIC_MAX + 1];
	uint64_t seq;
};

struct bl_fw_net {
	void *zctx, *router, *pub, *zap, *mon_cmd, *mon_evt;
	pthread_t zap_thread;
	bool zap_running;
	char cmd_ep[256], evt_ep[256];
	char public_key[BL_FW_KEY_Z85_LEN + 1];
	uint64_t (*now)(void *);
	void *now_ctx;
	void (*log)(void *, const char *);
	void *log_ctx;
	cJSON *empty_args;
	struct topic topics[MAX_TOPICS];
	int ntopics;

	/* Shared with the ZAP thread. */
	pthread_mutex_t lock; /* allow, refused_keys; and serialises log calls */
	struct bl_fw_allowlist allow;
	uint8_t refused_keys[REFUSED_LOGGED][32];
	int nrefused_keys;

	_Atomic uint64_t n_requests, n_clock, n_malformed, n_too_big, n_replies, n_replies_dropped,
	    n_events, n_events_dropped, n_auth_accepted, n_auth_refused, n_handshake_failed;
};

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t monotonic_us(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void log_stderr(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "beamloop-fw: %s\n", line);
}

static void logf_locked(struct bl_fw_net *net, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Caller holds net->lock. */
static void logf_locked(struct bl_fw_net *net, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	net->log(net->log_ctx, line);
}

/* ---- ZAP handler thread ---- */

static void zap_send(void *sock, const void *data, size_t len, bool more)
{
	zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0);
}

static void zap_frame_str(zmq_msg_t *m, char *out, size_t outsz)
{
	size_t n = zmq_msg_size(m);
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, zmq_msg_data(m), n);
	out[n] = 0;
}

/* Decides one ZAP request (frames already received); returns the status code, fills user id. */
static int zap_decide(struct bl_fw_net *net, zmq_msg_t *f, int nf, char *user, const char **text)
{
	char mech[16], addr[64], domain[64];
	*text = "unknown client key";
	user[0] = 0;
	if (nf < 6 || zmq_msg_size(&f[0]) != 3 || memcmp(zmq_msg_data(&f[0]), "1.0", 3)) {
		*text = "unsupported ZAP version";
		return 500;
	}
	zap_frame_str(&f[2], domain, sizeof(domain));
	zap_frame_str(&f[3], addr, sizeof(addr));
	zap_frame_str(&f[5], mech, sizeof(mech));
	if (strcmp(mech, "CURVE") || nf < 7 || zmq_msg_size(&f[6]) != 32) {
		count(&net->n_auth_refused);
		pthread_mutex_lock(&net->lock);
		logf_locked(net, "refused a %s handshake from %s (only CURVE is accepted)", mech,
			    addr);
		pthread_mutex_unlock(&net->lock);
		*text = "CURVE required";
		return 400;
	}
	const uint8_t *key = zmq_msg_data(&f[6]);
	pthread_mutex_lock(&net->lock);
	bool ok = bl_fw_allowlist_contains(&net->allow, key);
	if (ok) {
		zmq_z85_encode(user, key, 32);
		count(&net->n_auth_accepted);
	} else {
		uint64_t n = load(&net->n_auth_refused) + 1;
		count(&net->n_auth_refused);
		bool seen = false;
		for (int i = 0; i < net->nrefused_keys && !seen; i++)
			seen = !memcmp(net->refused_keys[i], key, 32);
		if (!seen) {
			char z85[BL_FW_KEY_Z85_LEN + 1];
			zmq_z85_encode(z85, key, 32);
			if (net->nrefused_keys < REFUSED_LOGGED) {
				memcpy(net->refused_keys[net->nrefused_keys++], key, 32);
				logf_locked(net,
					    "refused unknown client key %s from %s (domain %s; "
					    "logged once per key; %llu refusal(s) so far)",
					    z85, addr, domain, (unsigned long long)n);
			} else if (net->nrefused_keys == REFUSED_LOGGED) {
				net->nrefused_keys++; /* say once that we stop naming keys */
				logf_locked(
				    net,
				    "refused unknown client key %s from %s; more than %d "
				    "distinct keys refused, further new keys are only counted",
				    z85, addr, REFUSED_LOGGED);
			}
		}
	}
	pthread_mutex_unlock(&net->lock);
	return ok ? 200 : 400;
}

static void *zap_main(void *arg)
{
	struct bl_fw_net *net = arg;
	for (;;) {
		zmq_msg_t f[8];
		int nf = 0, more = 1, failed = 0;
		while (more) {
			zmq_msg_t spare, *m = nf < 8 ? &f[nf] : &spare;
			zmq_msg_init(m);
			if (zmq_msg_recv(m, net->zap, 0) < 0) {
				zmq_msg_close(m);
				failed = zmq_errno();
				break;
			}
			more = zmq_msg_more(m);
			if (m == &spare)
				zmq_msg_close(m);
			else
				nf++;
		}
		if (failed) {
			for (int i = 0; i < nf; i++)
				zmq_msg_close(&f[i]);
			if (failed == ETERM)
				break;
			continue; /* EINTR */
		}
		char user[BL_FW_KEY_Z85_LEN + 1];
		const char *text;
		int status = zap_decide(net, f, nf, user, &text);
		char code[4];
		snprintf(code, sizeof(code), "%d", status);
		zap_send(net->zap, "1.0", 3, true);
		if (nf > 1)
			zap_send(net->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), true);
		else
			zap_send(net->zap, "", 0, true);
		zap_send(net->zap, code, 3, true);
		zap_send(net->zap, status == 200 ? "OK" : text, strlen(status == 200 ? "OK" : text),
			 true);
		zap_send(net->zap, user, strlen(user), true);
		zap_send(net->zap, "", 0, false);
		for (int i = 0; i < nf; i++)
			zmq_msg_close(&f[i]);
	}
	zmq_close(net->zap);
	net->zap = NULL;
	return NULL;
}

/* ---- setup ---- */

static int zerr(void)
{
	int e = zmq_errno();
	return e ? -e : -EIO;
}

static int open_monitor(struct bl_fw_net *net, void *sock, const char *name, void **pair)
{
	char ep[96];
	snprintf(ep, sizeof(ep), "inproc://bl-fw-net-%p-%s", (void *)net, name);
	if (zmq_socket_monitor(sock, ep,
			       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
				   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL))
		return zerr();
	*pair = zmq_socket(net->zctx, ZMQ_PAIR);
	int linger = 0;
	if (!*pair || zmq_setsockopt(*pair, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_connect(*pair, ep))
		return zerr();
	return 0;
}

static int curve_server(void *sock, const uint8_t secret[32])
{
	int one = 1, linger = 0;
	int64_t maxmsg = BL_FW_REQUEST_HARD_MAX;
	if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, 32) ||
	    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, BL_FW_ZAP_DOMAIN, strlen(BL_FW_ZAP_DOMAIN)) ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)))
		return zerr();
	return 0;
}

static int bind_last(void *sock, const char *ep, char *out, size_t outsz)
{
	if (zmq_bind(sock, ep))
		return zerr();
	if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, out, &outsz))
		return zerr();
	return 0;
}

int bl_fw_net_open(struct bl_fw_net **out, const struct bl_fw_net_config *cfg)
{
	*out = NULL;
	uint8_t secret[32];
	if (!cfg || !bl_fw_key_decode(cfg->secret_key, secret))
		return -EINVAL;
	struct bl_fw_net *net = calloc(1, sizeof(*net));
	if (!net)
		return -ENOMEM;
	pthread_mutex_init(&net->lock, NULL);
	net->now = cfg->now ? cfg->now : monotonic_us;
	net->now_ctx = cfg->now_ctx;
	net->log = cfg->log ? cfg->log : log_stderr;
	net->log_ctx = cfg->log_ctx;
	int rc = -ENOMEM;
	net->empty_args = cJSON_CreateObject();
	if (!net->empty_args || bl_fw_allowlist_copy(&net->allow, cfg->allow))
		goto fail;
	if (zmq_curve_public(net->public_key, cfg->secret_key)) {
		rc = zerr();
		goto fail;
	}
	net->zctx = zmq_ctx_new();
	if (!net->zctx) {
		rc = zerr();
		goto fail;
	}
	/* The ZAP handler must be bound before any CURVE server socket takes a connection. */
	net->zap = zmq_socket(net->zctx, ZMQ_REP);
	int linger = 0, one = 1;
	if (!net->zap || zmq_setsockopt(net->zap, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_bind(net->zap, ZAP_ENDPOINT)) {
		rc = zerr();
		goto fail;
	}
	net->router = zmq_socket(net->zctx, ZMQ_ROUTER);
	net->pub = zmq_socket(net->zctx, ZMQ_PUB);
	if (!net->router || !net->pub) {
		rc = zerr();
		goto fail;
	}
	if ((rc = curve_server(net->router, secret)) || (rc = curve_server(net->pub, secret)))
		goto fail;
	if (zmq_setsockopt(net->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one))) {
		rc = zerr();
		goto fail;
	}
	if ((rc = open_monitor(net, net->router, "cmd", &net->mon_cmd)) ||
	    (rc = open_monitor(net, net->pub, "evt", &net->mon_evt)))
		goto fail;
	if ((rc = bind_last(net->router, cfg->cmd_endpoint ? cfg->cmd_endpoint : BL_FW_CMD_ENDPOINT,
			    net->cmd_ep, sizeof(net->cmd_ep))) ||
	    (rc = bind_last(net->pub, cfg->evt_endpoint ? cfg->evt_endpoint : BL_FW_EVT_ENDPOINT,
			    net->evt_ep, sizeof(net->evt_ep))))
		goto fail;
	/* pthread_create is a full barrier: the ZAP socket moves to its thread safely. */
	if ((rc = -pthread_create(&net->zap_thread, NULL, zap_main, net)))
		goto fail;
	net->zap_running = true;
	memset(secret, 0, sizeof(secret));
	*out = net;
	return 0;
fail:
	memset(secret, 0, sizeof(secret));
	bl_fw_net_close(net);
	return rc;
}

void bl_fw_net_close(struct bl_fw_net *net)
{
	if (!net)
		return;
	void **socks[] = {&net->router, &net->pub, &net->mon_cmd, &net->mon_evt};
	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++)
		if (*socks[i]) {
			zmq_close(*socks[i]);
			*socks[i] = NULL;
		}
	if (net->zctx) {
		if (net->zap_running) {
			zmq_ctx_shutdown(net->zctx); /* the ZAP thread's recv returns ETERM */
			pthread_join(net->zap_thread, NULL);
		} else if (net->zap) {
			zmq_close(net->zap);
		}
		zmq_ctx_term(net->zctx);
	}
	cJSON_Delete(net->empty_args);
	bl_fw_allowlist_free(&net->allow);
	pthread_mutex_destroy(&net->lock);
	free(net);
}

const char *bl_fw_net_cmd_endpoint(const struct bl_fw_net *net)
{
	return net->cmd_ep;
}

const char *bl_fw_net_evt_endpoint(const struct bl_fw_net *net)
{
	return net->evt_ep;
}

const char *bl_fw_net_public_key(const struct bl_fw_net *net)
{
	return net->public_key;
}

int bl_fw_net_set_allowlist(struct bl_fw_net *net, const struct bl_fw_allowlist *allow)
{
	struct bl_fw_allowlist copy;
	int rc = bl_fw_allowlist_copy(&copy, allow);
	if (rc)
		return rc;
	pthread_mutex_lock(&net->lock);
	bl_fw_allowlist_free(&net->allow);
	net->allow = copy;
	logf_locked(net, "allow-list replaced: %zu key(s)", copy.n);
	pthread_mutex_unlock(&net->lock);
	return 0;
}

void bl_fw_net_stats(const struct bl_fw_net *net, struct bl_fw_net_stats *o)
{
	o->requests = load(&net->n_requests);
	o->clock = load(&net->n_clock);
	o->malformed = load(&net->n_malformed);
	o->too_big = load(&net->n_too_big);
	o->replies = load(&net->n_replies);
	o->replies_dropped = load(&net->n_replies_dropped);
	o->events = load(&net->n_events);
	o->events_dropped = load(&net->n_events_dropped);
	o->auth_accepted = load(&net->n_auth_accepted);
	o->auth_refused = load(&net->n_auth_refused);
	o->handshake_failed = load(&net->n_handshake_failed);
}

/* ---- replies ---- */

static int send_reply(struct bl_fw_net *net, const struct bl_fw_reply_to *to, cJSON *root)
{
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!text) {
		count(&net->n_replies_dropped);
		return -ENOMEM;
	}
	int rc = 0;
	if (zmq_send(net->router, to->identity, to->identity_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = zerr();
	/* Once the routing frame is accepted the rest of the message is. */
	else if (to->req_delimiter && zmq_send(net->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = zerr();
	else if (zmq_send(net->router, text, strlen(text), ZMQ_DONTWAIT) < 0)
		rc = zerr();
	free(text);
	count(rc ? &net->n_replies_dropped : &net->n_replies);
	return rc;
}

static cJSON *reply_head(const struct bl_fw_reply_to *to, bool ok)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	if (!(to->has_id ? bl_fw_json_add_u64(root, "id", to->id)
			 : cJSON_AddNullToObject(root, "id") != NULL) ||
	    !cJSON_AddBoolToObject(root, "ok", ok)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int bl_fw_net_reply_ok(struct bl_fw_net *net, const struct bl_fw_reply_to *to, cJSON *result)
{
	cJSON *root = reply_head(to, true);
	if (!result)
		result = cJSON_CreateObject();
	if (!root || !result || !cJSON_AddItemToObject(root, "result", result)) {
		cJSON_Delete(result);
		cJSON_Delete(root);
		count(&net->n_replies_dropped);
		return -ENOMEM;
	}
	return send_reply(net, to, root);
}

int bl_fw_net_reply_err(struct bl_fw_net *net, const struct bl_fw_reply_to *to, int code,
			const char *message)
{
	if (code < 0)
		code = -code;
	if (!code)
		code = EIO; /* an error reply always carries an error */
	cJSON *root = reply_head(to, false);
	cJSON *err = cJSON_CreateObject();
	const char *name = bl_fw_errname(code);
	char buf[16];
	if (!name) {
		snprintf(buf, sizeof(buf), "E%d", code);
		name = buf;
	}
	if (!root || !err || !cJSON_AddItemToObject(root, "error", err)) {
		cJSON_Delete(err);
		cJSON_Delete(root);
		count(&net->n_replies_dropped);
		return -ENOMEM;
	}
	if (!cJSON_AddNumberToObject(err, "code", code) ||
	    !cJSON_AddStringToObject(err, "name", name) ||
	    !cJSON_AddStringToObject(err, "message", message ? message : strerror(code))) {
		cJSON_Delete(root);
		count(&net->n_replies_dropped);
		return -ENOMEM;
	}
	return send_reply(net, to, root);
}

/* ---- requests ---- */

static void malformed(struct bl_fw_net *net, const struct bl_fw_reply_to *to, int code,
		      const char *msg)
{
	count(&net->n_malformed);
	bl_fw_net_reply_err(net, to, code, msg);
}

static bool valid_id(const cJSON *id, uint64_t *out)
{
	if (!cJSON_IsNumber(id))
		return false;
	double v = id->valuedouble;
	if (!(v >= 0 && v <= BL_FW_ID_MAX) || floor(v) != v)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* Checks and dispatches one request payload (frames already split). */
static void handle_payload(struct bl_fw_net *net, struct bl_fw_reply_to *to, zmq_msg_t *payload,
			   uint64_t received, bl_fw_handler_fn handler, void *ctx)
{
	size_t len = zmq_msg_size(payload);
	bool too_big = len > BL_FW_REQUEST_MAX;
	if (too_big)
		count(&net->n_too_big);
	cJSON *root = cJSON_ParseWithLength(zmq_msg_data(payload), len);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		if (too_big)
			malformed(net, to, E2BIG, "request too big");
		else
			malformed(net, to, EBADMSG,
				  root ? "request is not a JSON object"
				       : "request is not valid JSON");
		return;
	}
	char msg[160];
	to->has_id = valid_id(cJSON_GetObjectItemCaseSensitive(root, "id"), &to->id);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "cmd");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(root, "args");
	if (too_big) {
		snprintf(msg, sizeof(msg), "request of %zu bytes, at most %d", len,
			 BL_FW_REQUEST_MAX);
		malformed(net, to, E2BIG, msg);
	} else if (!to->has_id) {
		malformed(net, to, EINVAL,
			  cJSON_GetObjectItemCaseSensitive(root, "id")
			      ? "\"id\" must be an integer from 0 to 2^53"
			      : "request has no \"id\"");
	} else if (!cmd) {
		malformed(net, to, EINVAL, "request has no \"cmd\"");
	} else if (!cJSON_IsString(cmd) || !cmd->valuestring[0] ||
		   strlen(cmd->valuestring) > BL_FW_CMD_MAX) {
		snprintf(msg, sizeof(msg), "\"cmd\" must be a string of 1 to %d characters",
			 BL_FW_CMD_MAX);
		malformed(net, to, EINVAL, msg);
	} else if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
		malformed(net, to, EINVAL, "\"args\" must be an object");
	} else if (!strcmp(cmd->valuestring, BL_FW_CMD_CLOCK)) {
		cJSON *res = cJSON_CreateObject();
		if (res)
			bl_fw_json_add_u64(res, "clock", net->now(net->now_ctx));
		count(&net->n_clock);
		bl_fw_net_reply_ok(net, to, res);
	} else {
		struct bl_fw_request req = {
		    .net = net,
		    .to = *to,
		    .id = to->id,
		    .cmd = cmd->valuestring,
		    .args = cJSON_IsObject(args) ? args : net->empty_args,
		    .received = received,
		};
		const char *user = zmq_msg_gets(payload, "User-Id");
		snprintf(req.client_key, sizeof(req.client_key), "%s", user ? user : "");
		count(&net->n_requests);
		if (handler)
			handler(ctx, &req);
		else
			bl_fw_net_reply_err(net, to, ENOSYS, "no command handler");
	}
	cJSON_Delete(root);
}

/* Reads the monitor events waiting on PAIR; counts and logs failed handshakes. */
static void drain_monitor(struct bl_fw_net *net, void *pair, const char *what)
{
	for (;;) {
		zmq_msg_t ev, ep;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, pair, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return;
		}
		uint16_t event = 0;
		uint32_t value = 0;
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&event, zmq_msg_data(&ev), 2);
			memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
		}
		char addr[128] = "";
		if (zmq_msg_more(&ev)) {
			zmq_msg_init(&ep);
			if (zmq_msg_recv(&ep, pair, ZMQ_DONTWAIT) >= 0)
				zap_frame_str(&ep, addr, sizeof(addr));
			zmq_msg_close(&ep);
		}
		zmq_msg_close(&ev);
		if (event &
		    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)) {
			uint64_t n = load(&net->n_handshake_failed) + 1;
			count(&net->n_handshake_failed);
			if (!(n & (n - 1))) { /* 1, 2, 4, 8, ...: a flood does not flood the log */
				pthread_mutex_lock(&net->lock);
				logf_locked(net,
					    "%s handshake failed on %s (%s, code 0x%x: plaintext "
					    "client or wrong server key?); %llu so far",
					    what, addr,
					    event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
						? "protocol"
						: "no detail",
					    value, (unsigned long long)n);
				pthread_mutex_unlock(&net->lock);
			}
		}
	}
}

int bl_fw_net_poll(struct bl_fw_net *net, bl_fw_handler_fn handler, void *ctx)
{
	drain_monitor(net, net->mon_cmd, "command");
	drain_monitor(net, net->mon_evt, "event");
	int taken = 0;
	while (taken < BL_FW_NET_POLL_MAX) {
		zmq_msg_t f[MAX_FRAMES];
		int nf = 0, more = 1, rc = 0;
		while (more) {
			zmq_msg_t spare, *m = nf < MAX_FRAMES ? &f[nf] : &spare;
			zmq_msg_init(m);
			/* The first frame decides; a message arrives whole, so the rest is there.
			 */
			if (zmq_msg_recv(m, net->router, ZMQ_DONTWAIT) < 0) {
				rc = zmq_errno();
				zmq_msg_close(m);
				break;
			}
			more = zmq_msg_more(m);
			if (m != &spare) {
				nf++;
			} else {
				zmq_msg_close(m);
				nf = MAX_FRAMES + 1; /* marks "too many frames" */
			}
		}
		if (rc) {
			for (int i = 0; i < nf && i < MAX_FRAMES; i++)
				zmq_msg_close(&f[i]);
			if (rc == EAGAIN || rc == EINTR)
				break;
			return -rc;
		}
		taken++;
		uint64_t received = net->now(net->now_ctx);
		struct bl_fw_reply_to to = {0};
		size_t idlen = zmq_msg_size(&f[0]);
		to.identity_len =
		    (uint8_t)(idlen > BL_FW_IDENTITY_MAX ? BL_FW_IDENTITY_MAX : idlen);
		memcpy(to.identity, zmq_msg_data(&f[0]), to.identity_len);
		if (nf == 2) {
			handle_payload(net, &to, &f[1], received, handler, ctx);
		} else if (nf == 3 && zmq_msg_size(&f[1]) == 0) {
			to.req_delimiter = true;
			handle_payload(net, &to, &f[2], received, handler, ctx);
		} else {
			malformed(net, &to, EPROTO, "one JSON frame per request expected");
		}
		for (int i = 0; i < nf && i < MAX_FRAMES; i++)
			zmq_msg_close(&f[i]);
	}
	return taken;
}

int bl_fw_net_pollitems(struct bl_fw_net *net, zmq_pollitem_t *items, int max)
{
	void *socks[] = {net->router, net->mon_cmd, net->mon_evt};
	int n = 0;
	for (; n < max && n < 3; n++)
		items[n] = (zmq_pollitem_t){.socket = socks[n], .events = ZMQ_POLLIN};
	return n;
}

int bl_fw_net_wait(struct bl_fw_net *net, int timeout_ms)
{
	zmq_pollitem_t items[3];
	int n = bl_fw_net_pollitems(net, items, 3);
	int rc = zmq_poll(items, n, timeout_ms);
	return rc < 0 ? zerr() : rc;
}

/* ---- events ---- */

static struct topic *find_topic(struct bl_fw_net *net, const char *name, int *rc)
{
	size_t len = strlen(name);
	*rc = 0;
	for (int i = 0; i < net->ntopics; i++) {
		struct topic *t = &net->topics[i];
		if (!strcmp(t->name, name))
			return t;
		size_t tl = strlen(t->name);
		if (!strncmp(t->name, name, tl < len ? tl : len)) {
			*rc = -EINVAL; /* one would be a prefix of the other: subscriptions would
					  mix */
			return NULL;
		}
	}
	if (net->ntopics == MAX_TOPICS) {
		*rc = -ENOSPC;
		return NULL;
	}
	struct topic *t = &net->topics[net->ntopics++];
	memcpy(t->name, name, len + 1);
	t->seq = 0;
	return t;
}

int bl_fw_net_publish(struct bl_fw_net *net, const char *topic, cJSON *data)
{
	int rc;
	size_t len = topic ? strlen(topic) : 0;
	struct topic *t = len && len <= BL_FW_TOPIC_MAX ? find_topic(net, topic, &rc) : NULL;
	if (!t) {
		cJSON_Delete(data);
		return len && len <= BL_FW_TOPIC_MAX ? rc : -EINVAL;
	}
	if (!data)
		data = cJSON_CreateObject();
	cJSON *root = cJSON_CreateObject();
	uint64_t seq = t->seq + 1;
	if (!root || !data || !cJSON_AddStringToObject(root, "topic", topic) ||
	    !bl_fw_json_add_u64(root, "seq", seq) ||
	    !bl_fw_json_add_u64(root, "t", net->now(net->now_ctx)) ||
	    !cJSON_AddItemToObject(root, "data", data)) {
		if (!cJSON_GetObjectItemCaseSensitive(root, "data"))
			cJSON_Delete(data);
		cJSON_Delete(root);
		count(&net->n_events_dropped);
		return -ENOMEM;
	}
	t->seq = seq; /* numbered even when dropped below: subscribers then see the gap */
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text) {
		count(&net->n_events_dropped);
		return -ENOMEM;
	}
	rc = 0;
	if (zmq_send(net->pub, topic, len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(net->pub, text, strlen(text), ZMQ_DONTWAIT) < 0)
		rc = zerr();
	free(text);
	count(rc ? &net->n_events_dropped : &net->n_events);
	return rc;
}

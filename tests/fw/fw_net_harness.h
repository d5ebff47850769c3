/* fw_net_harness.h: a controller interface served from a thread of the test, with test commands. */
#ifndef FW_NET_HARNESS_H
#define FW_NET_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "port/linux/fw_net.h"
#include "proto/fw_client.h"

struct harness {
	struct bl_fw_net *net;
	pthread_t thread;
	atomic_bool stop;
	char server_pub[BL_FW_KEY_Z85_LEN + 1], server_sec[BL_FW_KEY_Z85_LEN + 1];
	/* the controller clock: local monotonic * rate + offset */
	uint64_t t_start;
	double rate;
	int64_t offset;
	/* log lines the interface wrote */
	pthread_mutex_t lock;
	char log[16384];
	size_t loglen;
	/* a reply kept by the "later" command, sent at due (loop thread only) */
	struct bl_fw_reply_to later;
	uint64_t later_due;
	bool have_later;
	uint64_t handled; /* requests the handler saw (loop thread) */
};

static inline uint64_t harness_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline void harness_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* The controller clock as the test defines it. */
static inline uint64_t harness_ctrl_at(const struct harness *h, uint64_t local)
{
	return (uint64_t)((int64_t)h->t_start + h->offset +
			  (int64_t)((double)(local - h->t_start) * h->rate));
}

static inline uint64_t harness_now(void *ctx)
{
	return harness_ctrl_at(ctx, harness_mono_us());
}

static inline void harness_log(void *ctx, const char *line)
{
	struct harness *h = ctx;
	pthread_mutex_lock(&h->lock);
	int n = snprintf(h->log + h->loglen, sizeof(h->log) - h->loglen, "%s\n", line);
	if (n > 0 && h->loglen + (size_t)n < sizeof(h->log))
		h->loglen += (size_t)n;
	pthread_mutex_unlock(&h->lock);
	fprintf(stderr, "  [fw log] %s\n", line);
}

/* How many times NEEDLE occurs in the log. */
static inline int harness_log_count(struct harness *h, const char *needle)
{
	int n = 0;
	pthread_mutex_lock(&h->lock);
	for (const char *p = h->log; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Test commands: echo, later (reply after the handler returned), emit (publish), fail. */
static inline void harness_handler(void *ctx, const struct bl_fw_request *req)
{
	struct harness *h = ctx;
	h->handled++;
	if (!strcmp(req->cmd, "echo")) {
		cJSON *res = cJSON_CreateObject();
		cJSON_AddItemToObject(res, "args", cJSON_Duplicate(req->args, 1));
		cJSON_AddStringToObject(res, "client", req->client_key);
		cJSON_AddNumberToObject(res, "id", (double)req->id);
		bl_fw_net_reply_ok(req->net, &req->to, res);
	} else if (!strcmp(req->cmd, "later")) {
		const cJSON *ms = cJSON_GetObjectItemCaseSensitive(req->args, "ms");
		h->later = req->to; /* a copy: the request is gone once we return */
		h->later_due = harness_mono_us() + (cJSON_IsNumber(ms) ? ms->valueint : 20) * 1000;
		h->have_later = true;
	} else if (!strcmp(req->cmd, "emit")) {
		const cJSON *topic = cJSON_GetObjectItemCaseSensitive(req->args, "topic");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(req->args, "n");
		int rc = 0, count = cJSON_IsNumber(n) ? n->valueint : 1;
		for (int i = 0; i < count && !rc; i++) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddNumberToObject(d, "i", i);
			rc = bl_fw_net_publish(
			    req->net, cJSON_IsString(topic) ? topic->valuestring : "note", d);
		}
		if (rc)
			bl_fw_net_reply_err(req->net, &req->to, rc, "publish failed");
		else
			bl_fw_net_reply_ok(req->net, &req->to, NULL);
	} else if (!strcmp(req->cmd, "fail")) {
		bl_fw_net_reply_err(req->net, &req->to, -EBUSY, "busy now");
	} else {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown command \"%s\"", req->cmd);
		bl_fw_net_reply_err(req->net, &req->to, ENOSYS, msg);
	}
}

static inline void *harness_loop(void *arg)
{
	struct harness *h = arg;
	while (!atomic_load(&h->stop)) {
		bl_fw_net_wait(h->net, 2);
		if (bl_fw_net_poll(h->net, harness_handler, h) < 0)
			fprintf(stderr, "bl_fw_net_poll failed\n");
		if (h->have_later && harness_mono_us() >= h->later_due) {
			h->have_later = false;
			cJSON *res = cJSON_CreateObject();
			cJSON_AddBoolToObject(res, "late", 1);
			bl_fw_net_reply_ok(h->net, &h->later, res);
		}
	}
	return NULL;
}

/* Starts the interface on kernel-picked ports with ALLOW and the given clock; 0 or -errno. */
static inline int harness_start(struct harness *h, const struct bl_fw_allowlist *allow, double rate,
				int64_t offset)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->t_start = harness_mono_us();
	h->rate = rate;
	h->offset = offset;
	if (zmq_curve_keypair(h->server_pub, h->server_sec))
		return -EIO;
	struct bl_fw_net_config cfg = {
	    .cmd_endpoint = "tcp://127.0.0.1:*",
	    .evt_endpoint = "tcp://127.0.0.1:*",
	    .secret_key = h->server_sec,
	    .allow = allow,
	    .now = harness_now,
	    .now_ctx = h,
	    .log = harness_log,
	    .log_ctx = h,
	};
	int rc = bl_fw_net_open(&h->net, &cfg);
	if (rc)
		return rc;
	if (strcmp(bl_fw_net_public_key(h->net), h->server_pub))
		return -EINVAL;
	return -pthread_create(&h->thread, NULL, harness_loop, h);
}

static inline void harness_stop(struct harness *h)
{
	atomic_store(&h->stop, true);
	pthread_join(h->thread, NULL);
	bl_fw_net_close(h->net);
	pthread_mutex_destroy(&h->lock);
}

/* A client of H with the keypair PUB/SEC. */
static inline struct bl_fw_client *harness_client(struct harness *h, const char *pub,
						  const char *sec)
{
	struct bl_fw_client_config cfg = {
	    .endpoint = bl_fw_net_cmd_endpoint(h->net),
	    .event_endpoint = bl_fw_net_evt_endpoint(h->net),
	    .server_key = h->server_pub,
	    .public_key = pub,
	    .secret_key = sec,
	};
	struct bl_fw_client *c = NULL;
	int rc = bl_fw_client_open(&c, &cfg);
	if (rc)
		fprintf(stderr, "bl_fw_client_open: %d\n", rc);
	return c;
}

#endif

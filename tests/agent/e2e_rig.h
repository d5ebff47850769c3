/* e2e_rig.h: the end-to-end test's rig: a stream tap between bl-detector-sim and the agent
 * (records every image, injects bad messages) and a fake controller publishing edge records. */
#ifndef BL_E2E_RIG_H
#define BL_E2E_RIG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "port/linux/fw_net.h"

/* ---- stream tap ---- */

#define TAP_MAX 64

struct tap_image {
	uint64_t series, frame;
	char encoding[16];
	void *data;
	size_t size;
};

static struct {
	void *ctx, *pull, *push;
	char endpoint[128];
	pthread_t thread;
	atomic_bool stop;
	atomic_int inject; /* bad messages to send next */
	pthread_mutex_t lock;
	struct tap_image img[TAP_MAX];
	int nimg;
	zmq_msg_t last[4]; /* the last image message, for a duplicate */
	bool have_last;
} tap;

static int json_u64(const char *s, size_t n, const char *key, uint64_t *v)
{
	char k[32], buf[512];
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 511 ? n : 511), s);
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(buf, k);
	return p ? (*v = strtoull(p + strlen(k), NULL, 10), 0) : -1;
}

static void tap_record(zmq_msg_t *parts, int n)
{
	const char *h = zmq_msg_data(&parts[0]);
	size_t hn = zmq_msg_size(&parts[0]);
	if (n != 4 || !memmem(h, hn, "dimage-1.0", 10))
		return;
	pthread_mutex_lock(&tap.lock);
	if (tap.nimg < TAP_MAX) {
		struct tap_image *im = &tap.img[tap.nimg++];
		json_u64(h, hn, "series", &im->series);
		json_u64(h, hn, "frame", &im->frame);
		const char *d = zmq_msg_data(&parts[1]),
			   *e = memmem(d, zmq_msg_size(&parts[1]), "\"encoding\":\"", 12);
		if (e)
			sscanf(e + 12, "%15[^\"]", im->encoding);
		im->size = zmq_msg_size(&parts[2]);
		im->data = malloc(im->size);
		memcpy(im->data, zmq_msg_data(&parts[2]), im->size);
	}
	for (int i = 0; i < 4; i++) {
		if (tap.have_last)
			zmq_msg_close(&tap.last[i]);
		zmq_msg_init(&tap.last[i]);
		zmq_msg_copy(&tap.last[i], &parts[i]);
	}
	tap.have_last = true;
	pthread_mutex_unlock(&tap.lock);
}

static void send_str(const char *s, int more)
{
	zmq_send(tap.push, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

/* Bad messages: not JSON, an unknown htype, an image in 2 parts, a duplicate of the last image. */
static void tap_inject(int k)
{
	switch (k % 4) {
	case 0: send_str("{not json", 0); break;
	case 1: send_str("{\"htype\":\"dnothing-1.0\"}", 0); break;
	case 2:
		send_str("{\"htype\":\"dimage-1.0\",\"series\":1,\"frame\":0}", 1);
		send_str("{}", 0);
		break;
	case 3:
		pthread_mutex_lock(&tap.lock);
		for (int i = 0; tap.have_last && i < 4; i++) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			zmq_msg_copy(&m, &tap.last[i]);
			zmq_msg_send(&m, tap.push, i < 3 ? ZMQ_SNDMORE : 0);
		}
		pthread_mutex_unlock(&tap.lock);
		break;
	}
}

static void *tap_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&tap.stop)) {
		for (int k = atomic_exchange(&tap.inject, 0); k > 0; k--)
			tap_inject(k);
		zmq_pollitem_t it = {.socket = tap.pull, .events = ZMQ_POLLIN};
		if (zmq_poll(&it, 1, 5) <= 0)
			continue;
		zmq_msg_t parts[8];
		int n = 0, more = 1;
		while (more && n < 8) {
			zmq_msg_init(&parts[n]);
			zmq_msg_recv(&parts[n], tap.pull, 0);
			more = zmq_msg_more(&parts[n]);
			n++;
		}
		tap_record(parts, n);
		for (int i = 0; i < n; i++)
			zmq_msg_send(&parts[i], tap.push, i + 1 < n ? ZMQ_SNDMORE : 0);
	}
	return NULL;
}

static int tap_start(const char *detector_endpoint)
{
	pthread_mutex_init(&tap.lock, NULL);
	tap.ctx = zmq_ctx_new();
	tap.pull = zmq_socket(tap.ctx, ZMQ_PULL);
	tap.push = zmq_socket(tap.ctx, ZMQ_PUSH);
	int zero = 0;
	zmq_setsockopt(tap.pull, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(tap.push, ZMQ_LINGER, &zero, sizeof(zero));
	size_t len = sizeof(tap.endpoint);
	if (zmq_connect(tap.pull, detector_endpoint) || zmq_bind(tap.push, "tcp://127.0.0.1:*") ||
	    zmq_getsockopt(tap.push, ZMQ_LAST_ENDPOINT, tap.endpoint, &len))
		return -1;
	return pthread_create(&tap.thread, NULL, tap_loop, NULL);
}

static void tap_stop(void)
{
	atomic_store(&tap.stop, true);
	pthread_join(tap.thread, NULL);
	for (int i = 0; tap.have_last && i < 4; i++)
		zmq_msg_close(&tap.last[i]);
	for (int i = 0; i < tap.nimg; i++)
		free(tap.img[i].data);
	zmq_close(tap.pull);
	zmq_close(tap.push);
	zmq_ctx_term(tap.ctx);
}

static const struct tap_image *tap_find(uint64_t series, uint64_t frame)
{
	const struct tap_image *r = NULL;
	pthread_mutex_lock(&tap.lock);
	for (int i = 0; i < tap.nimg; i++)
		if (tap.img[i].series == series && tap.img[i].frame == frame)
			r = &tap.img[i];
	pthread_mutex_unlock(&tap.lock);
	return r;
}

/* ---- fake controller: the real bl_fw_net, publishing queued edge records ---- */

#define CTL_QUEUE 32

static struct {
	struct bl_fw_net *net;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	cJSON *queue[CTL_QUEUE];
	int nq;
	char server_pub[41], server_sec[41], client_pub[41], client_sec[41];
} ctl;

/* Commands the fake controller took: "pause" is answered {"paused": true, "reason": ...} and
 * remembered with the client's key; anything else ENOSYS. */
static struct {
	atomic_int pauses;
	char reason[64], key[64];
} ctl_cmds;

static void ctl_handler(void *c, const struct bl_fw_request *req)
{
	(void)c;
	if (strcmp(req->cmd, "pause")) {
		bl_fw_net_reply_err(req->net, &req->to, ENOSYS, NULL);
		return;
	}
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(req->args, "reason");
	snprintf(ctl_cmds.reason, sizeof(ctl_cmds.reason), "%s",
		 cJSON_IsString(r) ? r->valuestring : "");
	snprintf(ctl_cmds.key, sizeof(ctl_cmds.key), "%s", req->client_key);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "paused", 1);
	cJSON_AddStringToObject(o, "reason", ctl_cmds.reason);
	atomic_fetch_add(&ctl_cmds.pauses, 1); /* before the reply: the test reads it after */
	bl_fw_net_reply_ok(req->net, &req->to, o);
}

static void *ctl_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&ctl.stop)) {
		bl_fw_net_wait(ctl.net, 2);
		bl_fw_net_poll(ctl.net, ctl_handler, NULL);
		pthread_mutex_lock(&ctl.lock);
		for (int i = 0; i < ctl.nq; i++)
			bl_fw_net_publish(ctl.net, "edge", ctl.queue[i]);
		ctl.nq = 0;
		pthread_mutex_unlock(&ctl.lock);
	}
	return NULL;
}

static int ctl_start(void)
{
	pthread_mutex_init(&ctl.lock, NULL);
	if (zmq_curve_keypair(ctl.server_pub, ctl.server_sec) ||
	    zmq_curve_keypair(ctl.client_pub, ctl.client_sec))
		return -1;
	struct bl_fw_allowlist al = {0};
	bl_fw_allowlist_add(&al, ctl.client_pub);
	struct bl_fw_net_config cfg = {.cmd_endpoint = "tcp://127.0.0.1:*",
				       .evt_endpoint = "tcp://127.0.0.1:*",
				       .secret_key = ctl.server_sec,
				       .allow = &al};
	int rc = bl_fw_net_open(&ctl.net, &cfg);
	bl_fw_allowlist_free(&al);
	return rc ? rc : pthread_create(&ctl.thread, NULL, ctl_loop, NULL);
}

static void ctl_stop(void)
{
	atomic_store(&ctl.stop, true);
	pthread_join(ctl.thread, NULL);
	for (int i = 0; i < ctl.nq; i++)
		cJSON_Delete(ctl.queue[i]);
	bl_fw_net_close(ctl.net);
}

/* Queues an edge record (the format of firmware/README.md "Trigger edges"); BARCODE NULL: an
 * "untagged" record; LABEL: a print latch. */
static void ctl_edge(uint64_t series, uint64_t frame, uint64_t t, const char *barcode,
		     const char *label)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "series", (double)series);
	cJSON_AddStringToObject(o, "kind", "frame");
	cJSON_AddNumberToObject(o, "frame", (double)frame);
	cJSON_AddNumberToObject(o, "prog", (double)frame);
	cJSON_AddNumberToObject(o, "t", (double)t);
	cJSON_AddItemToObject(o, "flags", cJSON_CreateArray());
	if (barcode) {
		cJSON *s = cJSON_AddObjectToObject(o, "sample");
		cJSON_AddNumberToObject(s, "sample", 3);
		cJSON_AddNumberToObject(s, "puck", 1);
		cJSON_AddNumberToObject(s, "slot", 4);
		cJSON_AddStringToObject(s, "barcode", barcode);
	}
	if (label) {
		cJSON *p = cJSON_AddObjectToObject(o, "print");
		cJSON_AddNumberToObject(p, "run", 2);
		cJSON_AddStringToObject(p, "label", label);
		cJSON_AddStringToObject(p, "mode", "stage");
		cJSON_AddNumberToObject(p, "film_mm", 50 + (double)frame);
		cJSON_AddNumberToObject(p, "axis_mm", 61.2);
		cJSON_AddBoolToObject(p, "coated", 1);
		cJSON_AddNumberToObject(p, "since_coat_s", 1.0);
		cJSON_AddNumberToObject(p, "flow_ul_min", 60);
		cJSON_AddNumberToObject(p, "speed_mm_s", 20);
		cJSON *tc = cJSON_AddArrayToObject(p, "temp_c");
		cJSON_AddItemToArray(tc, cJSON_CreateNumber(60.5));
		cJSON_AddItemToArray(tc, cJSON_CreateNumber(80.0));
	}
	if (!barcode && !label)
		cJSON_AddBoolToObject(o, "untagged", 1);
	pthread_mutex_lock(&ctl.lock);
	if (ctl.nq < CTL_QUEUE)
		ctl.queue[ctl.nq++] = o;
	else
		cJSON_Delete(o);
	pthread_mutex_unlock(&ctl.lock);
}

#endif

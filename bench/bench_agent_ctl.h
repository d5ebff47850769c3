/* bench_agent_ctl.h: bench_agent's fake controller: the real bl_fw_net (CurveZMQ, ephemeral
 * ports) publishing one "edge" record per frame (sample metadata), queued by the detector side. */
#ifndef BENCH_AGENT_CTL_H
#define BENCH_AGENT_CTL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>

#include "port/linux/fw_net.h"
#include "proto/fw_client.h"

#define CTL_RING 8192

static struct {
	struct bl_fw_net *net;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	uint64_t ring[CTL_RING]; /* frame numbers to publish */
	unsigned head, len;
	uint64_t series;
	atomic_ullong dropped; /* edges ZMQ did not take */
	char server_pub[41], server_sec[41], client_pub[41], client_sec[41];
	struct bl_fw_client_config client;
} ctl;

static void ctl_publish(uint64_t frame)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "series", (double)ctl.series);
	cJSON_AddStringToObject(o, "kind", "frame");
	cJSON_AddNumberToObject(o, "frame", (double)frame);
	cJSON_AddNumberToObject(o, "prog", (double)frame);
	cJSON_AddNumberToObject(o, "t", (double)(1000 + frame * 1000));
	cJSON_AddItemToObject(o, "flags", cJSON_CreateArray());
	cJSON *s = cJSON_AddObjectToObject(o, "sample");
	cJSON_AddNumberToObject(s, "sample", 3);
	cJSON_AddNumberToObject(s, "puck", 1);
	cJSON_AddNumberToObject(s, "slot", 4);
	cJSON_AddStringToObject(s, "barcode", "BENCH0001");
	if (bl_fw_net_publish(ctl.net, "edge", o)) /* takes O */
		atomic_fetch_add(&ctl.dropped, 1);
}

static void *ctl_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&ctl.stop)) {
		bl_fw_net_wait(ctl.net, 1);
		bl_fw_net_poll(ctl.net, NULL, NULL);
		for (;;) {
			pthread_mutex_lock(&ctl.lock);
			bool any = ctl.len > 0;
			uint64_t f = any ? ctl.ring[ctl.head] : 0;
			if (any) {
				ctl.head = (ctl.head + 1) % CTL_RING;
				ctl.len--;
			}
			pthread_mutex_unlock(&ctl.lock);
			if (!any)
				break;
			ctl_publish(f);
		}
	}
	return NULL;
}

/* Queues FRAME's edge record; false when the ring is full (the caller waits). */
static bool ctl_edge(uint64_t frame)
{
	pthread_mutex_lock(&ctl.lock);
	bool ok = ctl.len < CTL_RING;
	if (ok)
		ctl.ring[(ctl.head + ctl.len++) % CTL_RING] = frame;
	pthread_mutex_unlock(&ctl.lock);
	return ok;
}

static int ctl_start(uint64_t series)
{
	memset(&ctl, 0, sizeof(ctl));
	pthread_mutex_init(&ctl.lock, NULL);
	ctl.series = series;
	if (zmq_curve_keypair(ctl.server_pub, ctl.server_sec) ||
	    zmq_curve_keypair(ctl.client_pub, ctl.client_sec))
		return -EIO;
	struct bl_fw_allowlist al = {0};
	bl_fw_allowlist_add(&al, ctl.client_pub);
	struct bl_fw_net_config cfg = {.cmd_endpoint = "tcp://127.0.0.1:*",
				       .evt_endpoint = "tcp://127.0.0.1:*",
				       .secret_key = ctl.server_sec,
				       .allow = &al};
	int rc = bl_fw_net_open(&ctl.net, &cfg);
	bl_fw_allowlist_free(&al);
	if (rc)
		return rc;
	ctl.client = (struct bl_fw_client_config){.endpoint = bl_fw_net_cmd_endpoint(ctl.net),
						  .event_endpoint = bl_fw_net_evt_endpoint(ctl.net),
						  .server_key = ctl.server_pub,
						  .public_key = ctl.client_pub,
						  .secret_key = ctl.client_sec};
	return pthread_create(&ctl.thread, NULL, ctl_loop, NULL) ? -EAGAIN : 0;
}

static void ctl_stop(void)
{
	atomic_store(&ctl.stop, true);
	pthread_join(ctl.thread, NULL);
	bl_fw_net_close(ctl.net);
	pthread_mutex_destroy(&ctl.lock);
}

#endif

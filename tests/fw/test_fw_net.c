/* test_fw_net.c: the controller's command and event channels over real CurveZMQ sockets. */
#include <errno.h>

#include "../check.h"
#include "fw_net_harness.h"

static struct harness H;
static char agent_pub[41], agent_sec[41], stranger_pub[41], stranger_sec[41];

static struct bl_fw_net_stats stats(void)
{
	struct bl_fw_net_stats s;
	bl_fw_net_stats(H.net, &s);
	return s;
}

/* Waits up to 3 s for *counter (re-read through stats()) to exceed base. */
#define WAIT_FOR(field, base)                                                                      \
	do {                                                                                       \
		for (int w_ = 0; w_ < 300 && stats().field <= (base); w_++)                        \
			harness_sleep_ms(10);                                                      \
	} while (0)

static void test_round_trip(struct bl_fw_client *c)
{
	cJSON *args = cJSON_Parse("{\"slot\": 7, \"name\": \"PS-b-P2VP\"}");
	cJSON *res = NULL;
	uint64_t before = stats().requests;
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", args, 2000, &res), 0);
	CHECK(res != NULL);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(res, "args");
	CHECK(cJSON_IsObject(a));
	CHECK_EQ_INT(cJSON_GetObjectItemCaseSensitive(a, "slot")->valueint, 7);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring, "PS-b-P2VP");
	/* the handler saw who called: the key the ZAP handler let in */
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(res, "client")->valuestring, agent_pub);
	double id1 = cJSON_GetObjectItemCaseSensitive(res, "id")->valuedouble;
	cJSON_Delete(res);
	cJSON_Delete(args);

	/* ids count up and the reply is matched to its own; JSON-text arguments too */
	CHECK_EQ_INT(bl_fw_client_call_json(c, "echo", "{\"x\": [1, 2]}", 2000, &res), 0);
	CHECK_EQ_INT((long long)cJSON_GetObjectItemCaseSensitive(res, "id")->valuedouble,
		     (long long)id1 + 1);
	cJSON_Delete(res);
	CHECK_EQ_INT(bl_fw_client_call_json(c, "echo", "[1", 2000, &res), -EINVAL);
	CHECK(res == NULL);
	/* no args: the handler gets {} */
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", NULL, 2000, &res), 0);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "args")) == 0);
	cJSON_Delete(res);
	CHECK_EQ_INT(stats().requests, before + 3);

	/* the built-in clock answers without the handler */
	uint64_t clk0 = stats().clock;
	CHECK_EQ_INT(bl_fw_client_call(c, "clock", NULL, 2000, &res), 0);
	CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(res, "clock")));
	cJSON_Delete(res);
	CHECK_EQ_INT(stats().clock, clk0 + 1);
	CHECK_EQ_INT(stats().requests, before + 3);
}

static void test_handler_errors(struct bl_fw_client *c)
{
	cJSON *err = NULL;
	CHECK_EQ_INT(bl_fw_client_call(c, "frobnicate", NULL, 2000, &err), -ENOSYS);
	CHECK(err != NULL);
	if (err) {
		CHECK_EQ_INT(cJSON_GetObjectItemCaseSensitive(err, "code")->valueint, ENOSYS);
		CHECK_STR(cJSON_GetObjectItemCaseSensitive(err, "name")->valuestring, "ENOSYS");
		CHECK_STR(cJSON_GetObjectItemCaseSensitive(err, "message")->valuestring,
			  "unknown command \"frobnicate\"");
	}
	cJSON_Delete(err);
	CHECK(strstr(bl_fw_client_error(c), "frobnicate") != NULL);
	/* the core's negative errno arrives as the positive code; the client returns it negated */
	CHECK_EQ_INT(bl_fw_client_call(c, "fail", NULL, 2000, NULL), -EBUSY);
}

static void test_late_and_stale(struct bl_fw_client *c)
{
	cJSON *res = NULL;
	/* replied from the loop after the handler returned */
	CHECK_EQ_INT(bl_fw_client_call_json(c, "later", "{\"ms\": 30}", 2000, &res), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "late")));
	cJSON_Delete(res);

	/* a reply that comes after the call gave up is dropped by the next call, not mistaken */
	struct bl_fw_client_stats cs0, cs1;
	bl_fw_client_stats(c, &cs0);
	CHECK_EQ_INT(bl_fw_client_call_json(c, "later", "{\"ms\": 50}", 5, &res), -ETIMEDOUT);
	CHECK(res == NULL);
	harness_sleep_ms(200);
	CHECK_EQ_INT(bl_fw_client_call_json(c, "echo", "{\"after\": 1}", 2000, &res), 0);
	CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "args"),
					       "after") != NULL);
	cJSON_Delete(res);
	bl_fw_client_stats(c, &cs1);
	CHECK_EQ_INT(cs1.stale_replies, cs0.stale_replies + 1);
	CHECK_EQ_INT(cs1.timeouts, cs0.timeouts + 1);

	/* a late reply to a client that has gone is dropped and counted */
	struct bl_fw_client *gone = harness_client(&H, agent_pub, agent_sec);
	uint64_t dropped = stats().replies_dropped;
	CHECK_EQ_INT(bl_fw_client_call_json(gone, "later", "{\"ms\": 300}", 100, NULL), -ETIMEDOUT);
	bl_fw_client_close(gone);
	WAIT_FOR(replies_dropped, dropped);
	CHECK_EQ_INT(stats().replies_dropped, dropped + 1);
}

/* The error reply to a malformed request: checks code and id (id < 0: null). */
static void check_malformed(struct bl_fw_client *c, const char *text, size_t len, int code,
			    long long id)
{
	cJSON *r = NULL;
	uint64_t m0 = stats().malformed;
	int rc = bl_fw_client_call_raw(c, text, len, 2000, &r);
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "  for request %.60s\n", text);
		return;
	}
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(r, "id");
	CHECK_EQ_INT(cJSON_GetObjectItemCaseSensitive(e, "code")->valueint, code);
	CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
	if (id < 0)
		CHECK(cJSON_IsNull(jid));
	else
		CHECK(cJSON_IsNumber(jid) && (long long)jid->valuedouble == id);
	if (code == EBADMSG || !cJSON_IsNumber(jid) || (long long)jid->valuedouble != id ||
	    cJSON_GetObjectItemCaseSensitive(e, "code")->valueint != code)
		fprintf(stderr, "  %.60s -> %s\n", text,
			cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring);
	cJSON_Delete(r);
	CHECK_EQ_INT(stats().malformed, m0 + 1);
}

static void test_malformed(struct bl_fw_client *c)
{
#define M(text, code, id) check_malformed(c, text, strlen(text), code, id)
	M("this is not JSON {", EBADMSG, -1);
	M("", EBADMSG, -1);
	M("[1, 2, 3]", EBADMSG, -1);
	M("{\"cmd\": \"echo\"}", EINVAL, -1);
	M("{\"id\": \"7\", \"cmd\": \"echo\"}", EINVAL, -1);
	M("{\"id\": -1, \"cmd\": \"echo\"}", EINVAL, -1);
	M("{\"id\": 1.5, \"cmd\": \"echo\"}", EINVAL, -1);
	M("{\"id\": 42}", EINVAL, 42);
	M("{\"id\": 43, \"cmd\": 12}", EINVAL, 43);
	M("{\"id\": 44, \"cmd\": \"\"}", EINVAL, 44);
	M("{\"id\": 45, \"cmd\": "
	  "\"a_command_name_much_longer_than_sixty_three_characters_is_refused_here\"}",
	  EINVAL, 45);
	M("{\"id\": 46, \"cmd\": \"echo\", \"args\": [1]}", EINVAL, 46);
	M("{\"id\": 9007199254740992, \"cmd\": \"nope\", \"args\": 3}", EINVAL, 9007199254740992LL);
#undef M
	/* too big: answered E2BIG with its id */
	size_t n = BL_FW_REQUEST_MAX + 100;
	char *big = malloc(n + 1);
	int k = snprintf(big, n + 1, "{\"id\": 47, \"cmd\": \"echo\", \"args\": {\"pad\": \"");
	memset(big + k, 'x', n - (size_t)k - 3);
	memcpy(big + n - 3, "\"}}", 3);
	big[n] = 0;
	uint64_t tb = stats().too_big;
	check_malformed(c, big, n, E2BIG, 47);
	CHECK_EQ_INT(stats().too_big, tb + 1);
	free(big);
	/* through the client API the same request is refused before sending */
	cJSON *args = cJSON_CreateObject();
	char *pad = malloc(BL_FW_REQUEST_MAX + 1);
	memset(pad, 'y', BL_FW_REQUEST_MAX);
	pad[BL_FW_REQUEST_MAX] = 0;
	cJSON_AddStringToObject(args, "pad", pad);
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", args, 2000, NULL), -E2BIG);
	free(pad);
	cJSON_Delete(args);

	/* still serving */
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", NULL, 2000, NULL), 0);
}

/* A CURVE client speaking REQ (empty delimiter frame): answered through the same envelope. */
static void test_req_socket(void)
{
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_REQ);
	int linger = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, H.server_pub, 41);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, agent_pub, 41);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, agent_sec, 41);
	CHECK_EQ_INT(zmq_connect(s, bl_fw_net_cmd_endpoint(H.net)), 0);
	const char *req = "{\"id\": 5, \"cmd\": \"echo\", \"args\": {\"via\": \"REQ\"}}";
	CHECK(zmq_send(s, req, strlen(req), 0) > 0);
	zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
	CHECK_EQ_INT(zmq_poll(&it, 1, 2000), 1);
	char buf[512];
	int n = zmq_recv(s, buf, sizeof(buf) - 1, ZMQ_DONTWAIT);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(strstr(buf, "\"id\":5") && strstr(buf, "\"ok\":true") && strstr(buf, "REQ"));
	zmq_close(s);
	zmq_ctx_term(ctx);
}

static void test_unknown_key(void)
{
	struct bl_fw_net_stats s0 = stats();
	struct bl_fw_client *c = harness_client(&H, stranger_pub, stranger_sec);
	cJSON *res = NULL;
	/* no reply: ZMQ refuses the handshake; the client sees the refusal on its socket */
	int rc = bl_fw_client_call(c, "echo", NULL, 1500, &res);
	CHECK_EQ_INT(rc, -EACCES);
	CHECK(res == NULL);
	fprintf(stderr, "  stranger: %s\n", bl_fw_client_error(c));
	/* each call tries a fresh handshake: refused again, counted each time, logged once; a
	 * second client with the same key too */
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", NULL, 1500, NULL), -EACCES);
	struct bl_fw_client *c2 = harness_client(&H, stranger_pub, stranger_sec);
	CHECK_EQ_INT(bl_fw_client_call(c2, "echo", NULL, 1500, NULL), -EACCES);
	bl_fw_client_close(c2);
	struct bl_fw_net_stats s1 = stats();
	CHECK(s1.auth_refused >= s0.auth_refused + 3);
	CHECK_EQ_INT(s1.requests, s0.requests); /* the handler never saw it */
	CHECK_EQ_INT(harness_log_count(&H, stranger_pub), 1);
	CHECK_EQ_INT(harness_log_count(&H, "from 127.0.0.1"), 1);
	CHECK_EQ_INT(harness_log_count(&H, agent_pub), 0);
	struct bl_fw_client_stats cs;
	bl_fw_client_stats(c, &cs);
	CHECK(cs.auth_refused >= 2);

	/* the same key let in at run time works at its next handshake */
	struct bl_fw_allowlist al = {0};
	CHECK_EQ_INT(bl_fw_allowlist_add(&al, agent_pub), 0);
	CHECK_EQ_INT(bl_fw_allowlist_add(&al, stranger_pub), 0);
	CHECK_EQ_INT(bl_fw_net_set_allowlist(H.net, &al), 0);
	/* the refused client itself, without reopening */
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", NULL, 2000, &res), 0);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(res, "client")->valuestring, stranger_pub);
	cJSON_Delete(res);
	bl_fw_client_close(c);
	bl_fw_allowlist_free(&al);
	CHECK_EQ_INT(bl_fw_allowlist_add(&al, agent_pub), 0);
	CHECK_EQ_INT(bl_fw_net_set_allowlist(H.net, &al), 0);
	bl_fw_allowlist_free(&al);
}

static void test_wrong_server_key(void)
{
	char pub[41], sec[41];
	zmq_curve_keypair(pub, sec);
	struct bl_fw_client_config cfg = {.endpoint = bl_fw_net_cmd_endpoint(H.net),
					  .server_key = pub, /* not the controller's */
					  .public_key = agent_pub,
					  .secret_key = agent_sec};
	struct bl_fw_client *c = NULL;
	CHECK_EQ_INT(bl_fw_client_open(&c, &cfg), 0);
	uint64_t hf = stats().handshake_failed;
	CHECK_EQ_INT(bl_fw_client_call(c, "echo", NULL, 300, NULL), -ETIMEDOUT);
	WAIT_FOR(handshake_failed, hf);
	CHECK(stats().handshake_failed > hf);
	bl_fw_client_close(c);
	cfg.server_key = "not a key";
	CHECK_EQ_INT(bl_fw_client_open(&c, &cfg), -EINVAL);
}

static void test_plaintext(void)
{
	struct bl_fw_net_stats s0 = stats();
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	CHECK_EQ_INT(zmq_connect(s, bl_fw_net_cmd_endpoint(H.net)), 0);
	const char *req = "{\"id\": 1, \"cmd\": \"echo\"}";
	CHECK(zmq_send(s, req, strlen(req), 0) > 0);
	zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
	CHECK_EQ_INT(zmq_poll(&it, 1, 500), 0);
	WAIT_FOR(handshake_failed, s0.handshake_failed);
	struct bl_fw_net_stats s1 = stats();
	CHECK(s1.handshake_failed > s0.handshake_failed);
	CHECK_EQ_INT(s1.requests, s0.requests);
	CHECK(harness_log_count(&H, "handshake failed") >= 1);
	zmq_close(s);
	zmq_ctx_term(ctx);
}

/* Waits for the next event that is not on topic "note" (the sync pings). */
static int next_event(struct bl_fw_client *c, struct bl_fw_event *ev)
{
	for (;;) {
		int rc = bl_fw_client_event(c, 2000, ev);
		if (rc || strcmp(ev->topic, "note"))
			return rc;
		bl_fw_event_clear(ev);
	}
}

static void test_events(struct bl_fw_client *c)
{
	struct bl_fw_client *sub = harness_client(&H, agent_pub, agent_sec);
	struct bl_fw_client *spy = harness_client(&H, stranger_pub, stranger_sec);
	struct bl_fw_event ev;
	CHECK_EQ_INT(bl_fw_client_event(sub, 10, &ev), -ENOTCONN);
	CHECK_EQ_INT(bl_fw_client_subscribe(sub, NULL), 0);
	CHECK_EQ_INT(bl_fw_client_subscribe(spy, NULL), 0);
	uint64_t refused0 = stats().auth_refused;

	/* PUB/SUB: the subscription reaches the controller some time after connecting; ping
	 * with "note" events until one arrives */
	int got = 0;
	for (int i = 0; i < 200 && !got; i++) {
		CHECK_EQ_INT(bl_fw_client_call_json(c, "emit", "{\"topic\": \"note\"}", 2000, NULL),
			     0);
		if (bl_fw_client_event(sub, 20, &ev) == 0) {
			got = 1;
			CHECK_STR(ev.topic, "note");
			bl_fw_event_clear(&ev);
		}
	}
	CHECK(got);

	uint64_t ev0 = stats().events;
	CHECK_EQ_INT(
	    bl_fw_client_call_json(c, "emit", "{\"topic\": \"state\", \"n\": 10}", 2000, NULL), 0);
	CHECK_EQ_INT(
	    bl_fw_client_call_json(c, "emit", "{\"topic\": \"edge\", \"n\": 3}", 2000, NULL), 0);
	CHECK_EQ_INT(stats().events, ev0 + 13);
	uint64_t last_t = 0;
	for (int i = 0; i < 13; i++) {
		int rc = next_event(sub, &ev);
		CHECK_EQ_INT(rc, 0);
		if (rc)
			break;
		bool state = i < 10;
		int k = state ? i : i - 10;
		CHECK_STR(ev.topic, state ? "state" : "edge");
		CHECK_EQ_INT(ev.seq, k + 1);
		CHECK_EQ_INT(ev.missed, 0);
		CHECK_EQ_INT(cJSON_GetObjectItemCaseSensitive(ev.data, "i")->valueint, k);
		CHECK(ev.time >= last_t);
		last_t = ev.time;
		bl_fw_event_clear(&ev);
	}
	/* a topic that is a prefix of another would mix subscriptions: refused */
	CHECK_EQ_INT(bl_fw_client_call_json(c, "emit", "{\"topic\": \"stat\"}", 2000, NULL),
		     -EINVAL);

	/* subscribing to one topic; a gap in its seq is reported */
	CHECK_EQ_INT(bl_fw_client_unsubscribe(sub, NULL), 0);
	CHECK_EQ_INT(bl_fw_client_subscribe(sub, "edge"), 0);
	harness_sleep_ms(100);
	while (bl_fw_client_event(sub, 50, &ev) == 0) /* anything still queued */
		bl_fw_event_clear(&ev);
	CHECK_EQ_INT(
	    bl_fw_client_call_json(c, "emit", "{\"topic\": \"state\", \"n\": 2}", 2000, NULL), 0);
	CHECK_EQ_INT(
	    bl_fw_client_call_json(c, "emit", "{\"topic\": \"edge\", \"n\": 1}", 2000, NULL), 0);
	CHECK_EQ_INT(bl_fw_client_event(sub, 2000, &ev), 0);
	CHECK_STR(ev.topic, "edge");
	CHECK_EQ_INT(ev.seq, 4);
	CHECK_EQ_INT(ev.missed, 0);
	bl_fw_event_clear(&ev);

	/* the stranger got nothing, and was refused */
	CHECK_EQ_INT(bl_fw_client_event(spy, 300, &ev), -ETIMEDOUT);
	CHECK(stats().auth_refused > refused0);
	struct bl_fw_client_stats ss;
	bl_fw_client_stats(spy, &ss);
	CHECK_EQ_INT(ss.events, 0);
	bl_fw_client_close(spy);
	bl_fw_client_close(sub);
}

int main(void)
{
	zmq_curve_keypair(agent_pub, agent_sec);
	zmq_curve_keypair(stranger_pub, stranger_sec);
	struct bl_fw_allowlist allow = {0};
	CHECK_EQ_INT(bl_fw_allowlist_add(&allow, agent_pub), 0);
	int rc = harness_start(&H, &allow, 1.0, 0);
	bl_fw_allowlist_free(&allow);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		return CHECK_DONE();
	fprintf(stderr, "controller on %s / %s\n", bl_fw_net_cmd_endpoint(H.net),
		bl_fw_net_evt_endpoint(H.net));
	CHECK(strncmp(bl_fw_net_cmd_endpoint(H.net), "tcp://127.0.0.1:", 16) == 0);

	struct bl_fw_client *c = harness_client(&H, agent_pub, agent_sec);
	CHECK(c != NULL);
	if (c) {
		fprintf(stderr, "round trip\n");
		test_round_trip(c);
		fprintf(stderr, "handler errors\n");
		test_handler_errors(c);
		fprintf(stderr, "late replies\n");
		test_late_and_stale(c);
		fprintf(stderr, "malformed requests\n");
		test_malformed(c);
		fprintf(stderr, "REQ socket\n");
		test_req_socket();
		fprintf(stderr, "unknown key\n");
		test_unknown_key();
		fprintf(stderr, "wrong server key\n");
		test_wrong_server_key();
		fprintf(stderr, "plaintext client\n");
		test_plaintext();
		fprintf(stderr, "events\n");
		test_events(c);
		bl_fw_client_close(c);
	}
	struct bl_fw_net_stats s = stats();
	fprintf(stderr,
		"requests %llu clock %llu malformed %llu replies %llu dropped %llu events %llu "
		"accepted %llu refused %llu handshake_failed %llu\n",
		(unsigned long long)s.requests, (unsigned long long)s.clock,
		(unsigned long long)s.malformed, (unsigned long long)s.replies,
		(unsigned long long)s.replies_dropped, (unsigned long long)s.events,
		(unsigned long long)s.auth_accepted, (unsigned long long)s.auth_refused,
		(unsigned long long)s.handshake_failed);
	harness_stop(&H);
	return CHECK_DONE();
}

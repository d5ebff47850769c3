/* test_fw_live.c: beamloop-fw on the virtual beamline, commanded over CurveZMQ: puck scan and
 * sample cycles, refusal of an unknown key, out-of-range commands, and kill -9 at every step of
 * a cycle with the restart proving where the sample is. */
#include "barcode_proto.h"
#include "bl_hwdb.h"
#include "fw_live.h"
#include "vbl.h"

#define CMD_EP "tcp://127.0.0.1:5711"
#define EVT_EP "tcp://127.0.0.1:5712"

static struct live L;
static struct bl_vbl vbl;

#define fw_start()   live_fw_start(&L, NULL)
#define fw_stop(sig) live_fw_stop(&L, sig)
#define client(p, s) live_client(&L, p, s)
#define call	     live_call
#define str	     live_str
#define sleep_ms     live_sleep_ms
#define ag_pub	     L.s.ag_pub
#define ag_sec	     L.s.ag_sec

static const cJSON *pos(const cJSON *st, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "positions"), i);
}

/* Polls status until the cycle is idle with nothing queued (or `limit_s` passes). */
static cJSON *wait_idle(struct bl_fw_client *c, int limit_s)
{
	for (int i = 0; i < limit_s * 10; i++) {
		cJSON *st = NULL;
		if (call(c, "status", NULL, &st) == 0 && !strcmp(str(st, "state"), "idle") &&
		    cJSON_GetObjectItemCaseSensitive(st, "queued")->valueint == 0) {
			bool pending = false;
			for (int k = 0; k < cJSON_GetArraySize(
						cJSON_GetObjectItemCaseSensitive(st, "positions"));
			     k++)
				pending |= !strcmp(str(pos(st, k), "scan"), "pending");
			if (!pending)
				return st;
		}
		cJSON_Delete(st);
		sleep_ms(100);
	}
	return NULL;
}

/* The robot simulator's truth: sample held (puck*100+slot) and on the stage. */
static void robot_truth(int *held, int *stage)
{
	char ans[512];
	*held = *stage = -1;
	if (bl_vbl_ctl(&vbl, "robot", "state", ans, sizeof(ans)) == 0) {
		const char *h = strstr(ans, "held="), *s = strstr(ans, "stage=");
		if (h)
			*held = atoi(h + 5);
		if (s)
			*stage = atoi(s + 6);
	}
}

int main(void)
{
	live_setup(&L, "fw-live", CMD_EP, EVT_EP);
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	CHECK_EQ_INT(bl_hwdb_load(L.s.hwdb, &db, &errs), 0);
	CHECK(bl_vbl_start(&vbl, db, BL_BINARY_DIR, 20.0) >= 5);
	char ans[128], code[16];
	/* slot 5's label is unreadable, slot 10 carries another sample's label */
	CHECK_EQ_INT(bl_vbl_ctl(&vbl, "barcode", "label 1 5 none", ans, sizeof(ans)), 0);
	bl_bc_sim_code(2, 3, code);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "label 1 10 %s", code);
	CHECK_EQ_INT(bl_vbl_ctl(&vbl, "barcode", cmd, ans, sizeof(ans)), 0);
	CHECK_EQ_INT(fw_start(), 0);

	struct bl_fw_client *ag = client(ag_pub, ag_sec);
	CHECK(ag != NULL);
	cJSON *st = NULL;
	CHECK_EQ_INT(call(ag, "status", NULL, &st), 0);
	CHECK_STR(str(st, "state"), "idle");
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "positions")), 16);
	cJSON_Delete(st);

	/* An unknown key is refused: no answer, whatever it asks. */
	char ipub[BL_FW_KEY_Z85_LEN + 1], isec[BL_FW_KEY_Z85_LEN + 1], ip[620], err[256];
	snprintf(ip, sizeof(ip), "%s/intruder", L.s.dir);
	CHECK_EQ_INT(bl_fw_keys_generate(ip, ipub, err, sizeof(err)), 0);
	CHECK_EQ_INT(bl_fw_keys_load(ip, NULL, isec, err, sizeof(err)), 0);
	struct bl_fw_client *in = client(ipub, isec);
	cJSON *r = NULL;
	int rc = bl_fw_client_call_json(in, "abort", NULL, 1500, &r);
	CHECK(rc == -EACCES || rc == -ETIMEDOUT);
	CHECK(r == NULL);
	bl_fw_client_close(in);

	/* Out-of-range and malformed commands are refused by the controller itself. */
	CHECK_EQ_INT(call(ag, "queue", "{\"sample\": 16}", NULL), -ERANGE);
	CHECK_EQ_INT(call(ag, "queue", "{\"sample\": -1}", NULL), -ERANGE);
	CHECK_EQ_INT(call(ag, "queue", "{\"sample\": \"3\"}", NULL), -EINVAL);
	CHECK_EQ_INT(call(ag, "scan", "{\"puck\": 3}", NULL), -ERANGE);
	CHECK_EQ_INT(call(ag, "reset", "{\"loc\": \"floor\"}", NULL), -EINVAL);
	CHECK_EQ_INT(call(ag, "fly", NULL, NULL), -ENOSYS);
	CHECK_EQ_INT(call(ag, "resume", NULL, NULL), -EINVAL); /* nothing held */

	/* Load puck 1: every label scanned; then two samples measured. */
	CHECK_EQ_INT(call(ag, "scan", "{\"puck\": 1}", NULL), 0);
	CHECK_EQ_INT(call(ag, "queue", "{\"sample\": 0}", NULL), 0);
	CHECK_EQ_INT(call(ag, "queue", "{\"sample\": 4}", NULL), 0); /* will fail its scan */
	st = wait_idle(ag, 240);
	CHECK(st != NULL);
	if (!st)
		return CHECK_DONE();
	for (int i = 0; i < 16; i++) {
		const cJSON *p = pos(st, i);
		const char *want = i == 0   ? "done"
				   : i == 4 ? "quarantined"
				   : i == 9 ? "mismatch"
					    : "idle";
		CHECK_STR(str(p, "state"), want);
		CHECK_STR(str(p, "loc"), "slot");
		CHECK_STR(str(p, "scan"), i == 4 ? "noread" : i == 9 ? "mismatch" : "ok");
	}
	CHECK_STR(str(pos(st, 9), "read"), code);
	cJSON_Delete(st);
	int held, stage;
	robot_truth(&held, &stage);
	CHECK_EQ_INT(held, 0);
	CHECK_EQ_INT(stage, 0);
	CHECK_EQ_INT(call(ag, "queue", "{\"sample\": 0}", NULL), -EALREADY); /* never twice */
	bl_fw_client_close(ag);
	fw_stop(SIGTERM);

	/* kill -9 at every step of a cycle: the restart proves where the sample is, puts it back,
	 * and a measured sample is never measured again. */
	const char *steps[] = {"pick", "to_reader", "read", "place", "arm", "expose", "return"};
	for (int k = 0; k < 7; k++) {
		static const int samples[] = {1, 2, 3, 5, 6, 7, 8}; /* 4 and 9 failed the scan */
		int sample = samples[k];
		CHECK_EQ_INT(fw_start(), 0);
		ag = client(ag_pub, ag_sec);
		snprintf(cmd, sizeof(cmd), "{\"sample\": %d}", sample);
		/* The state events say when the step starts (no polling race with short steps). */
		CHECK_EQ_INT(bl_fw_client_subscribe(ag, "state"), 0);
		CHECK_EQ_INT(call(ag, "status", NULL, NULL), 0);
		sleep_ms(300); /* the subscription reaches the controller */
		CHECK_EQ_INT(call(ag, "queue", cmd, NULL), 0);
		bool hit = false;
		struct bl_fw_event ev = {0};
		for (int i = 0; i < 1000 && !hit; i++) {
			if (bl_fw_client_event(ag, 10, &ev) == 0 && ev.data)
				hit = !strcmp(str(ev.data, "state"), steps[k]);
			bl_fw_event_clear(&ev);
			st = NULL;
			if (!hit && call(ag, "status", NULL, &st) == 0)
				hit = !strcmp(str(st, "state"), steps[k]);
			cJSON_Delete(st);
		}
		if (!hit)
			fprintf(stderr, "step %s of sample %d never seen\n", steps[k], sample);
		CHECK(hit);
		sleep_ms(20 * k % 60);
		bl_fw_client_close(ag);
		fw_stop(SIGKILL);
		sleep_ms(300); /* the robot finishes the motion it was given */
		CHECK_EQ_INT(fw_start(), 0);
		ag = client(ag_pub, ag_sec);
		st = wait_idle(ag, 120);
		CHECK(st != NULL);
		if (!st)
			break;
		const cJSON *p = pos(st, sample);
		CHECK_STR(str(p, "loc"), "slot");
		bool measured = !strcmp(str(p, "state"), "done");
		if (!measured) {
			CHECK_STR(str(p, "state"), "idle");
			CHECK_EQ_INT(call(ag, "queue", cmd, NULL), 0);
			cJSON_Delete(st);
			st = wait_idle(ag, 120);
			CHECK(st != NULL);
			if (!st)
				break;
			CHECK_STR(str(pos(st, sample), "state"), "done");
		}
		CHECK_EQ_INT(call(ag, "queue", cmd, NULL), -EALREADY);
		/* earlier samples keep their results across restarts */
		CHECK_STR(str(pos(st, 0), "state"), "done");
		CHECK_STR(str(pos(st, 4), "state"), "quarantined");
		cJSON_Delete(st);
		robot_truth(&held, &stage);
		CHECK_EQ_INT(held, 0);
		CHECK_EQ_INT(stage, 0);
		bl_fw_client_close(ag);
		fw_stop(SIGTERM);
	}
	bl_vbl_stop(&vbl);
	bl_hwdb_free(db);
	if (live_cleanup(&L))
		return 1;
	return CHECK_DONE();
}

/* test_fw_live.c: beamloop-fw on the virtual beamline, commanded over CurveZMQ: puck scan and
 * sample cycles, refusal of an unknown key, out-of-range commands, and kill -9 at every step of
 * a cycle with the restart proving where the sample is. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "barcode_proto.h"
#include "bl_hwdb.h"
#include "proto/fw_client.h"
#include "proto/fw_keys.h"
#include "vbl.h"

#define CMD_EP "tcp://127.0.0.1:5711"
#define EVT_EP "tcp://127.0.0.1:5712"

static char dir[] = "/tmp/bl-fw-live-XXXXXX";
static char path_hwdb[512], path_inv[600], path_journal[600], path_key[600], path_allow[600];
static struct bl_vbl vbl;
static pid_t fw_pid;
static char fw_pub[BL_FW_KEY_Z85_LEN + 1];
static char ag_pub[BL_FW_KEY_Z85_LEN + 1], ag_sec[BL_FW_KEY_Z85_LEN + 1];

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Starts beamloop-fw and waits for its ready line. */
static int fw_start(void)
{
	int p[2];
	if (pipe(p))
		return -errno;
	fw_pid = fork();
	if (fw_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		dup2(p[1], 1);
		close(p[0]);
		char log[620];
		snprintf(log, sizeof(log), "%s/fw.log", dir);
		FILE *l = fopen(log, "a");
		if (l)
			dup2(fileno(l), 2);
		execl(BL_BINARY_DIR "/firmware/beamloop-fw", "beamloop-fw", "--hwdb", path_hwdb,
		      "--inventory", path_inv, "--journal", path_journal, "--key", path_key,
		      "--allow", path_allow, "--cmd", CMD_EP, "--evt", EVT_EP, "--no-rt",
		      "--frames", "4", "--count-time", "0.05", "--period", "0.1", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	char line[512] = "";
	bool ok = f && fgets(line, sizeof(line), f) && !strncmp(line, "ready ", 6);
	if (f)
		fclose(f);
	if (!ok)
		fprintf(stderr, "beamloop-fw did not start: '%s' (see %s/fw.log)\n", line, dir);
	return ok ? 0 : -EIO;
}

static void fw_stop(int sig)
{
	if (fw_pid > 0) {
		kill(fw_pid, sig);
		waitpid(fw_pid, NULL, 0);
	}
	fw_pid = 0;
}

static struct bl_fw_client *client(const char *pub, const char *sec)
{
	struct bl_fw_client *c = NULL;
	struct bl_fw_client_config cc = {.endpoint = CMD_EP,
					 .event_endpoint = EVT_EP,
					 .server_key = fw_pub,
					 .public_key = pub,
					 .secret_key = sec};
	if (bl_fw_client_open(&c, &cc))
		return NULL;
	return c;
}

static int call(struct bl_fw_client *c, const char *cmd, const char *args, cJSON **out)
{
	cJSON *r = NULL;
	int rc = bl_fw_client_call_json(c, cmd, args, 5000, &r);
	if (out)
		*out = r;
	else
		cJSON_Delete(r);
	return rc;
}

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

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

static void setup(void)
{
	if (!mkdtemp(dir))
		exit(1);
	snprintf(path_hwdb, sizeof(path_hwdb), "%s/hwdb/beamlines/sim.yaml", BL_SOURCE_DIR);
	snprintf(path_inv, sizeof(path_inv), "%s/inventory.json", dir);
	snprintf(path_journal, sizeof(path_journal), "%s/journal.sqlite", dir);
	snprintf(path_key, sizeof(path_key), "%s/fw", dir);
	snprintf(path_allow, sizeof(path_allow), "%s/allow", dir);
	char err[256], p[620];
	CHECK_EQ_INT(bl_fw_keys_generate(path_key, fw_pub, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/agent", dir);
	CHECK_EQ_INT(bl_fw_keys_generate(p, ag_pub, err, sizeof(err)), 0);
	CHECK_EQ_INT(bl_fw_keys_load(p, NULL, ag_sec, err, sizeof(err)), 0);
	FILE *f = fopen(path_allow, "w");
	fprintf(f, "# the agent\n%s\n", ag_pub);
	fclose(f);
	f = fopen(path_inv, "w");
	fprintf(f, "[\n");
	for (int s = 1; s <= 16; s++) {
		char code[16];
		bl_bc_sim_code(1, s, code);
		fprintf(f, "  {\"puck\": 1, \"slot\": %d, \"barcode\": \"%s\"}%s\n", s, code,
			s < 16 ? "," : "");
	}
	fprintf(f, "]\n");
	fclose(f);
}

int main(void)
{
	setup();
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	CHECK_EQ_INT(bl_hwdb_load(path_hwdb, &db, &errs), 0);
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
	snprintf(ip, sizeof(ip), "%s/intruder", dir);
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
	char rm[600];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (!check_failures && system(rm) != 0)
		return 1;
	return CHECK_DONE();
}

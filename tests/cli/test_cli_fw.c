/* test_cli_fw.c: `beamloop fw` run as a subprocess against a fake controller (the real bl_fw_net
 * server, canned replies) that records every command it receives. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "port/linux/fw_net.h"
#include "proto/fw_keys.h"

extern char **environ;

/* ---- the fake controller ---- */

#define MAX_SEEN 64

struct seen {
	char cmd[BL_FW_CMD_MAX + 1];
	char *args; /* unformatted JSON */
	char client[BL_FW_KEY_Z85_LEN + 1];
};

static struct {
	struct bl_fw_net *net;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	struct seen seen[MAX_SEEN];
	int nseen;
} fake;

static const char status_text[] =
    "{\"state\":\"idle\",\"hold\":[\"door\"],\"current\":-1,\"queued\":0,\"now\":5000000,"
    "\"positions\":["
    "{\"puck\":1,\"slot\":1,\"barcode\":\"BL1001013\",\"state\":\"done\",\"loc\":\"slot\","
    "\"scan\":\"ok\",\"measured\":1,\"series\":12,\"read\":\"BL1001013\"},"
    "{\"puck\":1,\"slot\":2,\"barcode\":\"BL1001020\",\"state\":\"mismatch\",\"loc\":\"slot\","
    "\"scan\":\"mismatch\",\"measured\":0,\"series\":0,\"read\":\"XX999\"}],"
    "\"counters\":{\"measured\":1,\"quarantined\":0,\"mismatched\":1,\"faulted\":0,"
    "\"robot_moves\":6,\"suspensions\":0,\"recovered\":0,\"loop_overruns\":0},"
    "\"print\":{\"present\":true,\"state\":\"idle\",\"hold\":[]}}";

static const char print_reply[] =
    "{\"started\":4,\"print\":{\"present\":true,\"state\":\"heat\",\"hold\":[],"
    "\"run\":{\"id\":4,\"label\":\"PS-b-P2VP\",\"mode\":\"stage\"}}}";

static const char unknown_reason[] =
    "sample 1 (BL1001020, puck 1 slot 2): move slot->gripper #7 has no outcome; check the slot "
    "and the gripper, then run `beamloop fw resolve 1 slot|gripper|stage`";

static const char loop_text[] =
    "{\"period_us\":1000,\"fifo\":true,\"mlocked\":false,\"samples\":12000,\"seconds\":12.0,"
    "\"mean_us\":6.25,\"p50_us\":5.5,\"p99_us\":21.5,\"p999_us\":48.5,\"max_us\":97.25,"
    "\"overruns\":3,\"loops\":12003}";

static void fake_handler(void *ctx, const struct bl_fw_request *rq)
{
	(void)ctx;
	pthread_mutex_lock(&fake.lock);
	if (fake.nseen < MAX_SEEN) {
		struct seen *s = &fake.seen[fake.nseen++];
		snprintf(s->cmd, sizeof(s->cmd), "%s", rq->cmd);
		s->args = cJSON_PrintUnformatted(rq->args);
		memcpy(s->client, rq->client_key, sizeof(s->client));
	}
	pthread_mutex_unlock(&fake.lock);
	const char *c = rq->cmd;
	cJSON *st = cJSON_Parse(status_text);
	if (!strcmp(c, "queue")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->args, "sample");
		if (cJSON_IsNumber(v) && (v->valueint < 0 || v->valueint > 9)) {
			char msg[128];
			snprintf(msg, sizeof(msg), "'sample' = %d is outside the limits [0, 9]",
				 v->valueint);
			bl_fw_net_reply_err(rq->net, &rq->to, ERANGE, msg);
		} else {
			cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(st, "queued"), 1);
			bl_fw_net_reply_ok(rq->net, &rq->to, st);
			st = NULL;
		}
	} else if (!strcmp(c, "status") || !strcmp(c, "scan") || !strcmp(c, "pause") ||
		   !strcmp(c, "resume") || !strcmp(c, "abort") || !strcmp(c, "reset") ||
		   !strcmp(c, "resolve")) {
		if (!strcmp(c, "resolve")) { /* still blocked: another sample is unknown */
			cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(st, "state"),
					     "blocked");
			cJSON_AddStringToObject(st, "blocked", "1 sample(s) unknown");
			cJSON_AddItemToArray(cJSON_AddArrayToObject(st, "unknown"),
					     cJSON_CreateString(unknown_reason));
		} else if (!strcmp(c, "abort")) { /* the safe state, with its record */
			cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(st, "state"),
					     "fault");
			cJSON *f = cJSON_AddObjectToObject(st, "fault");
			cJSON_AddNumberToObject(f, "reason", 3);
			cJSON_AddStringToObject(f, "error", "Input/output error");
			cJSON_AddNumberToObject(f, "sample", 1);
			cJSON_AddStringToObject(f, "last_known", "gripper");
			cJSON_AddStringToObject(f, "moving_to", "stage");
		}
		bl_fw_net_reply_ok(rq->net, &rq->to, st);
		st = NULL;
	} else if (!strcmp(c, "ping")) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "now", 5000000);
		bl_fw_net_reply_ok(rq->net, &rq->to, o);
	} else if (!strcmp(c, "loop")) {
		bl_fw_net_reply_ok(rq->net, &rq->to, cJSON_Parse(loop_text));
	} else if (!strcmp(c, "print")) {
		bl_fw_net_reply_ok(rq->net, &rq->to, cJSON_Parse(print_reply));
	} else {
		bl_fw_net_reply_err(rq->net, &rq->to, ENOSYS, "unknown command");
	}
	cJSON_Delete(st);
}

static void *fake_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&fake.stop)) {
		bl_fw_net_wait(fake.net, 5);
		bl_fw_net_poll(fake.net, fake_handler, NULL);
	}
	return NULL;
}

static void seen_clear(void)
{
	pthread_mutex_lock(&fake.lock);
	for (int i = 0; i < fake.nseen; i++)
		cJSON_free(fake.seen[i].args);
	fake.nseen = 0;
	pthread_mutex_unlock(&fake.lock);
}

static int seen_count(void)
{
	pthread_mutex_lock(&fake.lock);
	int n = fake.nseen;
	pthread_mutex_unlock(&fake.lock);
	return n;
}

/* True when request I was CMD with exactly the arguments ARGS (JSON text). */
static bool seen_is(int i, const char *cmd, const char *args)
{
	pthread_mutex_lock(&fake.lock);
	bool ok = false;
	if (i < fake.nseen) {
		cJSON *want = cJSON_Parse(args), *got = cJSON_Parse(fake.seen[i].args);
		ok = !strcmp(fake.seen[i].cmd, cmd) && want && got && cJSON_Compare(want, got, 1);
		if (!ok)
			fprintf(stderr, "  request %d: %s %s, expected %s %s\n", i,
				fake.seen[i].cmd, fake.seen[i].args, cmd, args);
		cJSON_Delete(want);
		cJSON_Delete(got);
	} else {
		fprintf(stderr, "  request %d: none (%d seen), expected %s %s\n", i, fake.nseen,
			cmd, args);
	}
	pthread_mutex_unlock(&fake.lock);
	return ok;
}

/* ---- running the CLI ---- */

static char dir[64];
static char out[65536], err[65536];

static void slurp(const char *path, char *buf, size_t n)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t k = fread(buf, 1, n - 1, f);
	buf[k] = 0;
	fclose(f);
}

/* Runs `beamloop fw ARGS... NULL` with ENV (NAME=VALUE strings, NULL-terminated; the
 * BEAMLOOP_FW_* of this process are left out); its exit code, output in out/err. */
static int run_env(const char *const *env, ...)
{
	char *argv[64];
	int argc = 0;
	argv[argc++] = (char *)BL_BEAMLOOP;
	argv[argc++] = (char *)"fw";
	va_list ap;
	va_start(ap, env);
	const char *a;
	while ((a = va_arg(ap, const char *)) && argc < 63)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	char *envp[256];
	int ne = 0;
	for (char **e = environ; *e && ne < 200; e++)
		if (strncmp(*e, "BEAMLOOP_FW_", 12))
			envp[ne++] = *e;
	for (int i = 0; env && env[i] && ne < 255; i++)
		envp[ne++] = (char *)env[i];
	envp[ne] = NULL;
	char po[128], pe[128];
	snprintf(po, sizeof(po), "%s/out.txt", dir);
	snprintf(pe, sizeof(pe), "%s/err.txt", dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, po, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	int rc = posix_spawn(&pid, BL_BEAMLOOP, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		fprintf(stderr, "posix_spawn %s: %s\n", BL_BEAMLOOP, strerror(rc));
		return -1;
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	slurp(po, out, sizeof(out));
	slurp(pe, err, sizeof(err));
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "$ beamloop fw");
	for (int i = 2; i < argc; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "  -> %d\n%s%s", code, out, err);
	return code;
}

#define run(...) run_env(NULL, __VA_ARGS__, NULL)

static char endpoint[128], server_pub_file[160], server_prefix[128], op_key[128], stranger_key[128];
static char op_pub[BL_FW_KEY_Z85_LEN + 1], stranger_pub[BL_FW_KEY_Z85_LEN + 1];

/* The options that reach the fake controller with the allowed key. */
#define CONN "--cmd", endpoint, "--server-key", server_pub_file, "--key", op_key

#define HAS(buf, s)                                                                                \
	do {                                                                                       \
		if (!strstr(buf, s)) {                                                             \
			fprintf(stderr, "%s:%d: missing from " #buf ": \"%s\"\n", __FILE__,        \
				__LINE__, s);                                                      \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

static void test_keygen(void)
{
	char prefix[128], pubfile[160];
	snprintf(prefix, sizeof(prefix), "%s/op", dir);
	CHECK_EQ_INT(run("keygen", prefix), 0);
	CHECK_EQ_INT(strlen(out), BL_FW_KEY_Z85_LEN + 1);
	memcpy(op_pub, out, BL_FW_KEY_Z85_LEN);
	char loaded[BL_FW_KEY_Z85_LEN + 1], e[256];
	snprintf(pubfile, sizeof(pubfile), "%s.pub", prefix);
	CHECK_EQ_INT(bl_fw_keys_load_one(pubfile, loaded, e, sizeof(e)), 0);
	CHECK_STR(loaded, op_pub);
	snprintf(op_key, sizeof(op_key), "%s", prefix);
	/* never overwritten */
	CHECK_EQ_INT(run("keygen", prefix), 1);
	HAS(err, "op.key: key files exist already");
	snprintf(stranger_key, sizeof(stranger_key), "%s/stranger", dir);
	CHECK_EQ_INT(run("keygen", stranger_key), 0);
	memcpy(stranger_pub, out, BL_FW_KEY_Z85_LEN);
	CHECK_EQ_INT(run("keygen"), 2);
}

static void test_status(void)
{
	seen_clear();
	CHECK_EQ_INT(run(CONN, "status"), 0);
	CHECK(seen_is(0, "status", "{}"));
	CHECK_EQ_INT(seen_count(), 1);
	pthread_mutex_lock(&fake.lock);
	CHECK_STR(fake.seen[0].client, op_pub);
	pthread_mutex_unlock(&fake.lock);
	HAS(out, "state     idle");
	HAS(out, "holds     door");
	HAS(out, "current   none");
	HAS(out, "positions 2");
	HAS(out, "barcode");
	HAS(out, "BL1001013");
	HAS(out, "mismatch");
	HAS(out, "XX999");
	HAS(out, "robot_moves 6");
	HAS(out, "printer   idle, holds: none\n");

	/* --json: the reply as it came; options after the verb too */
	CHECK_EQ_INT(run("status", "--json", CONN), 0);
	cJSON *j = cJSON_Parse(out), *want = cJSON_Parse(status_text);
	CHECK(j && cJSON_Compare(j, want, 1));
	cJSON_Delete(j);
	cJSON_Delete(want);
}

static void test_ping_loop(void)
{
	seen_clear();
	CHECK_EQ_INT(run(CONN, "ping"), 0);
	CHECK(seen_is(0, "ping", "{}")); /* the warm-up "clock" never reaches the handler */
	CHECK_EQ_INT(seen_count(), 1);
	HAS(out, "round trip");
	HAS(out, " ms");
	HAS(out, "controller clock 5.000000 s");

	seen_clear();
	CHECK_EQ_INT(run(CONN, "loop"), 0);
	CHECK(seen_is(0, "loop", "{}"));
	HAS(out, "period 1000 us");
	HAS(out, "SCHED_FIFO yes");
	HAS(out, "mlockall no");
	HAS(out, "p99 21.5 us");
	HAS(out, "p99.9 48.5 us");
	HAS(out, "max 97.2 us");
	HAS(out, "3 overruns");
	CHECK_EQ_INT(run(CONN, "loop", "--reset"), 0);
	CHECK(seen_is(1, "loop", "{\"reset\":true}"));
}

static void test_fsm_commands(void)
{
	seen_clear();
	CHECK_EQ_INT(run(CONN, "queue", "3", "7"), 0);
	CHECK(seen_is(0, "queue", "{\"sample\":3}"));
	CHECK(seen_is(1, "queue", "{\"sample\":7}"));
	CHECK_EQ_INT(seen_count(), 2);
	HAS(out, "queued sample 3");
	HAS(out, "queued sample 7");

	/* the controller's refusal: its name and message, exit 1, the rest not sent */
	seen_clear();
	CHECK_EQ_INT(run(CONN, "queue", "3", "40", "5"), 1);
	CHECK_EQ_INT(seen_count(), 2);
	CHECK(seen_is(1, "queue", "{\"sample\":40}"));
	HAS(err, "queue: ERANGE: 'sample' = 40 is outside the limits [0, 9]");
	HAS(err, "not sent: 5");

	seen_clear();
	CHECK_EQ_INT(run(CONN, "scan", "2"), 0);
	CHECK_EQ_INT(run(CONN, "pause"), 0);
	CHECK_EQ_INT(run(CONN, "resume"), 0);
	CHECK_EQ_INT(run(CONN, "abort"), 0);
	HAS(out, "abort: ok; state fault");
	HAS(out, "FAULT     reason 3: Input/output error, sample 1 (last known gripper, moving to "
		 "stage)");
	CHECK_EQ_INT(run(CONN, "reset"), 0);
	CHECK_EQ_INT(run(CONN, "reset", "--loc", "gripper"), 0);
	CHECK_EQ_INT(run(CONN, "pause", "--cycle", "print"), 0);
	CHECK_EQ_INT(run(CONN, "reset", "--loc", "slot", "--cycle", "sample"), 0);
	CHECK_EQ_INT(run(CONN, "resolve", "4", "stage", "--who", "alice"), 0);
	CHECK_EQ_INT(run(CONN, "resolve", "1", "slot"), 0);
	CHECK(seen_is(0, "scan", "{\"puck\":2}"));
	CHECK(seen_is(1, "pause", "{}"));
	CHECK(seen_is(2, "resume", "{}"));
	CHECK(seen_is(3, "abort", "{}"));
	CHECK(seen_is(4, "reset", "{}"));
	CHECK(seen_is(5, "reset", "{\"loc\":\"gripper\"}"));
	CHECK(seen_is(6, "pause", "{\"cycle\":\"print\"}"));
	CHECK(seen_is(7, "reset", "{\"loc\":\"slot\",\"cycle\":\"sample\"}"));
	CHECK(seen_is(8, "resolve", "{\"sample\":4,\"loc\":\"stage\",\"who\":\"alice\"}"));
	HAS(out, "resolve: ok; state blocked, holds: door, 0 queued");
	HAS(out, "BLOCKED   1 sample(s) unknown");
	HAS(out, unknown_reason);
	/* no --who: the login name is recorded (when the system knows one) */
	pthread_mutex_lock(&fake.lock);
	cJSON *a = cJSON_Parse(fake.nseen > 9 ? fake.seen[9].args : "null");
	pthread_mutex_unlock(&fake.lock);
	CHECK_EQ_INT(cJSON_GetObjectItemCaseSensitive(a, "sample")->valueint, 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "loc")), "slot");
	const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "who"));
	CHECK(!who || *who);
	cJSON_Delete(a);
	CHECK_EQ_INT(seen_count(), 10);
}

static void test_print_call(void)
{
	char path[160];
	const char *recipe = "{\n  \"name\": \"PS-b-P2VP\",\n  \"layers\": [{\"speed_mm_s\": 2.5, "
			     "\"temp_c\": 60}]\n}\n";
	snprintf(path, sizeof(path), "%s/recipe.json", dir);
	FILE *f = fopen(path, "w");
	fputs(recipe, f);
	fclose(f);
	seen_clear();
	CHECK_EQ_INT(run(CONN, "print", path), 0);
	CHECK(seen_is(0, "print", recipe));
	HAS(out,
	    "print: ok; print 4 started\nprinter   heat, holds: none, run 4 'PS-b-P2VP' (stage)");

	/* a malformed recipe: the file and line, nothing sent */
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	f = fopen(path, "w");
	fputs("{\n  \"name\": \"x\",\n  \"speed\": ,\n}\n", f);
	fclose(f);
	CHECK_EQ_INT(run(CONN, "print", path), 2);
	HAS(err, "bad.json:3: malformed JSON");
	snprintf(path, sizeof(path), "%s/list.json", dir);
	f = fopen(path, "w");
	fputs("[1, 2]\n", f);
	fclose(f);
	CHECK_EQ_INT(run(CONN, "print", path), 2);
	HAS(err, "expected a JSON object");
	CHECK_EQ_INT(run(CONN, "print", "/nonexistent/recipe.json"), 2);
	HAS(err, "/nonexistent/recipe.json: No such file or directory");
	CHECK_EQ_INT(seen_count(), 1);

	/* call: any command, the raw reply (the error object too) */
	seen_clear();
	CHECK_EQ_INT(run(CONN, "call", "status"), 0);
	HAS(out, "\"positions\"");
	CHECK_EQ_INT(run(CONN, "call", "frobnicate", "{\"x\": [1, 2]}"), 1);
	CHECK(seen_is(0, "status", "{}"));
	CHECK(seen_is(1, "frobnicate", "{\"x\":[1,2]}"));
	HAS(out, "\"name\":\t\"ENOSYS\"");
	HAS(err, "frobnicate: ENOSYS: unknown command");
	CHECK_EQ_INT(run(CONN, "call", "frobnicate", "[1]"), 2);
	CHECK_EQ_INT(seen_count(), 2);
}

static void test_usage(void)
{
	seen_clear();
	CHECK_EQ_INT(run(CONN), 2);
	CHECK_EQ_INT(run(CONN, "frobnicate"), 2);
	HAS(err, "unknown verb 'frobnicate'");
	CHECK_EQ_INT(run(CONN, "queue"), 2);
	CHECK_EQ_INT(run(CONN, "queue", "3", "x"), 2);
	CHECK_EQ_INT(run(CONN, "scan"), 2);
	CHECK_EQ_INT(run(CONN, "status", "extra"), 2);
	CHECK_EQ_INT(run(CONN, "--timeout", "soon", "status"), 2);
	CHECK_EQ_INT(run(CONN, "--bogus", "status"), 2);
	CHECK_EQ_INT(run(CONN, "pause", "--json"), 2);
	HAS(err, "--json is not an option of 'pause'");
	CHECK_EQ_INT(run(CONN, "reset", "--loc", "moon"), 2);
	CHECK_EQ_INT(run(CONN, "abort", "--cycle", "moon"), 2);
	CHECK_EQ_INT(run(CONN, "status", "--cycle", "print"), 2);
	CHECK_EQ_INT(run(CONN, "resolve", "4", "moon"), 2);
	CHECK_EQ_INT(run(CONN, "resolve", "4"), 2);
	CHECK_EQ_INT(run("--help"), 0);
	HAS(out, "BEAMLOOP_FW_SERVER_KEY");
	CHECK_EQ_INT(seen_count(), 0);

	/* key problems name the file */
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/nokey", dir);
	CHECK_EQ_INT(
	    run("--cmd", endpoint, "--server-key", server_pub_file, "--key", missing, "status"), 2);
	HAS(err, "nokey.key: No such file or directory");
	CHECK_EQ_INT(run("--cmd", endpoint, "--server-key", missing, "--key", op_key, "status"), 2);
	HAS(err, "nokey: No such file or directory");
	CHECK_EQ_INT(run("--cmd", endpoint, "--key", op_key, "status"), 2);
	HAS(err, "--server-key");
	CHECK_EQ_INT(run("--cmd", endpoint, "--server-key", server_pub_file, "status"), 2);
	HAS(err, "--key PREFIX");
	CHECK_EQ_INT(seen_count(), 0);
}

/* The server key as Z85 text, as PREFIX (PREFIX.pub), and everything from the environment. */
static void test_key_forms_env(void)
{
	seen_clear();
	const char *z85 = bl_fw_net_public_key(fake.net);
	CHECK_EQ_INT(run("--cmd", endpoint, "--server-key", z85, "--key", op_key, "pause"), 0);
	CHECK_EQ_INT(
	    run("--cmd", endpoint, "--server-key", server_prefix, "--key", op_key, "resume"), 0);
	char e1[200], e2[400], e3[400];
	snprintf(e1, sizeof(e1), "BEAMLOOP_FW_CMD=%s", endpoint);
	snprintf(e2, sizeof(e2), "BEAMLOOP_FW_SERVER_KEY=%s", server_pub_file);
	snprintf(e3, sizeof(e3), "BEAMLOOP_FW_KEY=%s", op_key);
	const char *env[] = {e1, e2, e3, NULL};
	CHECK_EQ_INT(run_env(env, "abort", NULL), 0);
	CHECK(seen_is(0, "pause", "{}"));
	CHECK(seen_is(1, "resume", "{}"));
	CHECK(seen_is(2, "abort", "{}"));
	/* an option beats the environment */
	const char *env_bad[] = {"BEAMLOOP_FW_CMD=tcp://127.0.0.1:1", e2, e3, NULL};
	CHECK_EQ_INT(run_env(env_bad, "--cmd", endpoint, "status", NULL), 0);
	CHECK_EQ_INT(seen_count(), 4);
}

/* A port nothing listens on (bound once by the kernel's choice, then released). */
static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int port = -1;
	if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(s, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static void test_no_answer_refused(void)
{
	char dead[64], msg[160];
	snprintf(dead, sizeof(dead), "tcp://127.0.0.1:%d", free_port());
	CHECK_EQ_INT(run("--cmd", dead, "--server-key", server_pub_file, "--key", op_key,
			 "--timeout", "300", "status"),
		     3);
	snprintf(msg, sizeof(msg),
		 "beamloop fw: no answer from %s within 300 ms (is beamloop-fw running? is "
		 "--server-key its key?)",
		 dead);
	HAS(err, msg);
	/* a live controller with another server key stays silent too */
	char wrong[160];
	snprintf(wrong, sizeof(wrong), "%s.pub", stranger_key);
	seen_clear();
	CHECK_EQ_INT(run("--cmd", endpoint, "--server-key", wrong, "--key", op_key, "--timeout",
			 "300", "status"),
		     3);
	/* a key not on the allow-list: said so, with the key to add */
	CHECK_EQ_INT(run("--cmd", endpoint, "--server-key", server_pub_file, "--key", stranger_key,
			 "status"),
		     4);
	HAS(err, "not on the controller's allow-list");
	HAS(err, stranger_pub);
	CHECK_EQ_INT(seen_count(), 0);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bl-cli-fw-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	pthread_mutex_init(&fake.lock, NULL);
	test_keygen();

	/* the controller: its own key files, the operator's key allowed */
	char pub[BL_FW_KEY_Z85_LEN + 1], sec[BL_FW_KEY_Z85_LEN + 1], e[512], allow_file[160];
	snprintf(server_prefix, sizeof(server_prefix), "%s/fw", dir);
	snprintf(server_pub_file, sizeof(server_pub_file), "%s.pub", server_prefix);
	snprintf(allow_file, sizeof(allow_file), "%s/op.pub", dir);
	struct bl_fw_allowlist allow = {0};
	int rc = bl_fw_keys_generate(server_prefix, pub, e, sizeof(e));
	if (!rc)
		rc = bl_fw_keys_load(server_prefix, pub, sec, e, sizeof(e));
	if (!rc)
		rc = bl_fw_allowlist_load(&allow, allow_file, e, sizeof(e));
	if (rc) {
		fprintf(stderr, "keys: %s\n", e);
		return 1;
	}
	struct bl_fw_net_config cfg = {.cmd_endpoint = "tcp://127.0.0.1:*",
				       .evt_endpoint = "tcp://127.0.0.1:*",
				       .secret_key = sec,
				       .allow = &allow};
	rc = bl_fw_net_open(&fake.net, &cfg);
	bl_fw_allowlist_free(&allow);
	if (rc) {
		fprintf(stderr, "bl_fw_net_open: %s\n", strerror(-rc));
		return 1;
	}
	snprintf(endpoint, sizeof(endpoint), "%s", bl_fw_net_cmd_endpoint(fake.net));
	pthread_create(&fake.thread, NULL, fake_loop, NULL);

	test_status();
	test_ping_loop();
	test_fsm_commands();
	test_print_call();
	test_usage();
	test_key_forms_env();
	test_no_answer_refused();

	atomic_store(&fake.stop, true);
	pthread_join(fake.thread, NULL);
	bl_fw_net_close(fake.net);
	seen_clear();
	pthread_mutex_destroy(&fake.lock);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}

/* cmd_fw.c: `beamloop fw ...`: the operator's commands to the controller (beamloop-fw) over
 * CurveZMQ: options, keys, the calls and what their failures mean. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fw_show.h"
#include "proto/fw_client.h"
#include "proto/fw_keys.h"

#define FW_MAX_WORDS 128
#define FW_FILE_MAX  (1 << 20) /* a recipe file; requests over BL_FW_REQUEST_MAX fail anyway */

/* Exit codes: what went wrong, for scripts. */
enum {
	EXIT_ERROR = 1,	    /* the controller answered an error (or a local failure) */
	EXIT_USAGE = 2,	    /* bad options or arguments, missing or malformed key/recipe files */
	EXIT_NO_ANSWER = 3, /* nothing came back in time */
	EXIT_REFUSED = 4,   /* the controller refused this client's key */
};

enum fw_verb {
	V_KEYGEN,
	V_STATUS,
	V_PING,
	V_LOOP,
	V_QUEUE,
	V_SCAN,
	V_PAUSE,
	V_RESUME,
	V_ABORT,
	V_RESET,
	V_RESOLVE,
	V_PRINT,
	V_CALL,
};

/* Each verb: its words after the verb (min..max, -1: any number) and the verb options it takes. */
static const struct {
	const char *name;
	int min, max;
	const char *opts; /* the verb's own options, space separated */
} verbs[] = {
    [V_KEYGEN] = {"keygen", 1, 1, ""},
    [V_STATUS] = {"status", 0, 0, "--json"},
    [V_PING] = {"ping", 0, 0, "--count"},
    [V_LOOP] = {"loop", 0, 0, "--reset"},
    [V_QUEUE] = {"queue", 1, -1, ""},
    [V_SCAN] = {"scan", 1, 1, ""},
    [V_PAUSE] = {"pause", 0, 0, "--cycle"},
    [V_RESUME] = {"resume", 0, 0, "--cycle"},
    [V_ABORT] = {"abort", 0, 0, "--cycle"},
    [V_RESET] = {"reset", 0, 0, "--loc --cycle"},
    [V_RESOLVE] = {"resolve", 2, 2, "--who"},
    [V_PRINT] = {"print", 1, 1, ""},
    [V_CALL] = {"call", 1, 2, ""},
};

struct fw_opts {
	const char *endpoint, *server_key, *key;
	int timeout_ms;
	bool json, reset;
	int count;
	const char *loc, *who, *cycle;
	int verb;
	int nwords; /* the words after the verb */
	char *words[FW_MAX_WORDS];
	const char *used[8]; /* verb options given, checked against the verb */
	int nused;
};

struct fw_conn {
	struct bl_fw_client *c;
	const char *endpoint;
	int timeout_ms;
	const char *key_prefix;
	char pub[BL_FW_KEY_Z85_LEN + 1]; /* this client's public key */
};

static int usage(FILE *o, int rc)
{
	fprintf(
	    o,
	    "usage: beamloop fw [OPTIONS] VERB [ARGS]     the controller (beamloop-fw), by hand\n"
	    "verbs:\n"
	    "  status [--json]            state, holds, block or fault, every position (--json: "
	    "raw)\n"
	    "  ping [--count N]           round trip of the lightest command, in ms\n"
	    "  loop [--reset]             the control loop's wake-up latency (--reset: start a "
	    "new\n"
	    "                             measuring window after this answer)\n"
	    "  queue SAMPLE...            queue positions (indices from status), in this order\n"
	    "  scan PUCK                  read every label of a loaded puck\n"
	    "  pause|resume|abort [--cycle sample|print]   default: the print cycle while it runs\n"
	    "  reset [--loc slot|gripper|stage] [--cycle sample|print]   leave the safe state\n"
	    "                             (--loc: where the sample was found after a cut move)\n"
	    "  resolve SAMPLE slot|gripper|stage [--who NAME]   a blocked controller: where the\n"
	    "                             sample is (NAME default: your login name)\n"
	    "  print RECIPE.json          start a print; the file's JSON object is the recipe\n"
	    "  call CMD [JSON]            any command, JSON object arguments; prints the raw "
	    "reply\n"
	    "  keygen PREFIX              write this client's PREFIX.key + PREFIX.pub, print the\n"
	    "                             public key (for the controller's --allow list)\n"
	    "options (before or after the verb):\n"
	    "  --cmd ENDPOINT             command endpoint (env BEAMLOOP_FW_CMD; default %s)\n"
	    "  --server-key FILE|Z85      the controller's public key: its .pub file or the\n"
	    "                             40-character Z85 text (env BEAMLOOP_FW_SERVER_KEY)\n"
	    "  --key PREFIX               this client's key pair PREFIX.key + PREFIX.pub\n"
	    "                             (env BEAMLOOP_FW_KEY)\n"
	    "  --timeout MS               how long to wait for each reply (default 3000)\n"
	    "exit status: 0 done; 1 the controller answered an error; 2 usage, key or file "
	    "problem;\n"
	    "  3 no answer (controller not running, wrong server key); 4 this client's key "
	    "refused\n",
	    BL_FW_CMD_ENDPOINT);
	return rc;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "beamloop fw: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(beamloop fw --help for the usage)\n");
	va_end(ap);
	return EXIT_USAGE;
}

/* A whole decimal integer in [lo, hi]. */
static bool parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

static bool is_number(const char *s)
{
	int v;
	return parse_int(s, INT_MIN, INT_MAX, &v);
}

/* Options anywhere; the first word is the verb. 0, or the exit code after printing why. */
static int parse_options(int argc, char **argv, struct fw_opts *o)
{
	*o = (struct fw_opts){.endpoint = getenv("BEAMLOOP_FW_CMD"),
			      .server_key = getenv("BEAMLOOP_FW_SERVER_KEY"),
			      .key = getenv("BEAMLOOP_FW_KEY"),
			      .timeout_ms = 3000,
			      .count = 1,
			      .verb = -1};
	if (o->endpoint && !*o->endpoint)
		o->endpoint = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, -1);
		if (a[0] != '-' || is_number(a)) { /* a word (negative numbers included) */
			if (o->verb < 0) {
				for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
					if (!strcmp(a, verbs[k].name))
						o->verb = (int)k;
				if (o->verb < 0)
					return usage_error("unknown verb '%s'", a);
			} else if (o->nwords == FW_MAX_WORDS) {
				return usage_error("too many arguments (at most %d)", FW_MAX_WORDS);
			} else {
				o->words[o->nwords++] = argv[i];
			}
			continue;
		}
		if (!strcmp(a, "--json") || !strcmp(a, "--reset")) {
			*(a[2] == 'j' ? &o->json : &o->reset) = true;
			if (o->nused < 8)
				o->used[o->nused++] = a;
			continue;
		}
		bool known = !strcmp(a, "--cmd") || !strcmp(a, "--server-key") ||
			     !strcmp(a, "--key") || !strcmp(a, "--timeout") ||
			     !strcmp(a, "--loc") || !strcmp(a, "--who") || !strcmp(a, "--count") ||
			     !strcmp(a, "--cycle");
		if (!known)
			return usage_error("unknown option '%s'", a);
		if (!v)
			return usage_error("%s needs a value", a);
		i++;
		if (!strcmp(a, "--cmd"))
			o->endpoint = v;
		else if (!strcmp(a, "--server-key"))
			o->server_key = v;
		else if (!strcmp(a, "--key"))
			o->key = v;
		else if (!strcmp(a, "--timeout")) {
			if (!parse_int(v, 1, 3600000, &o->timeout_ms))
				return usage_error(
				    "--timeout takes milliseconds, 1..3600000, not '%s'", v);
		} else {
			if (!strcmp(a, "--loc"))
				o->loc = v;
			else if (!strcmp(a, "--who"))
				o->who = v;
			else if (!strcmp(a, "--cycle"))
				o->cycle = v;
			else if (!parse_int(v, 1, 100000, &o->count))
				return usage_error("--count takes 1..100000, not '%s'", v);
			if (o->nused < 8)
				o->used[o->nused++] = a;
		}
	}
	if (o->verb < 0)
		return usage(stderr, EXIT_USAGE);
	for (int k = 0; k < o->nused; k++)
		if (!strstr(verbs[o->verb].opts, o->used[k]))
			return usage_error("%s is not an option of '%s'", o->used[k],
					   verbs[o->verb].name);
	int min = verbs[o->verb].min, max = verbs[o->verb].max;
	if (o->nwords < min || (max >= 0 && o->nwords > max))
		return usage_error("'%s' takes %s", verbs[o->verb].name,
				   o->verb == V_QUEUE	  ? "one or more sample numbers"
				   : o->verb == V_RESOLVE ? "SAMPLE and LOC (slot|gripper|stage)"
				   : o->verb == V_CALL ? "CMD and optionally its arguments (a JSON "
							 "object)"
				   : min == 1	       ? "one argument"
						       : "no arguments");
	return 0;
}

static bool loc_ok(const char *l)
{
	return !strcmp(l, "slot") || !strcmp(l, "gripper") || !strcmp(l, "stage");
}

/* Line of byte offset OFF in TEXT (1-based). */
static int line_of(const char *text, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

/* Reads PATH as one JSON object; NULL after printing why. */
static cJSON *read_json_object(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "beamloop fw: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(FW_FILE_MAX + 1);
	size_t n = text ? fread(text, 1, FW_FILE_MAX + 1, f) : 0;
	bool err = ferror(f);
	fclose(f);
	if (!text || err || n > FW_FILE_MAX) {
		fprintf(stderr, "beamloop fw: %s: %s\n", path,
			!text ? "out of memory"
			: err ? "read error"
			      : "larger than 1 MiB");
		free(text);
		return NULL;
	}
	text[n] = 0;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (!cJSON_IsObject(root)) {
		fprintf(stderr, "beamloop fw: %s:%d: %s\n", path,
			line_of(text, end ? (size_t)(end - text) : 0),
			root ? "expected a JSON object ({...})" : "malformed JSON");
		cJSON_Delete(root);
		root = NULL;
	}
	free(text);
	return root;
}

/* The controller's key: a 40-character Z85 text, a key file, or PREFIX with PREFIX.pub. */
static int load_server_key(const char *arg, char z85[BL_FW_KEY_Z85_LEN + 1])
{
	struct stat st;
	uint8_t bin[32];
	char err[512], path[4096];
	if (stat(arg, &st) && bl_fw_key_decode(arg, bin)) {
		memcpy(z85, arg, BL_FW_KEY_Z85_LEN + 1);
		return 0;
	}
	const char *file = arg;
	if (stat(arg, &st) && (size_t)snprintf(path, sizeof(path), "%s.pub", arg) < sizeof(path) &&
	    !stat(path, &st))
		file = path;
	if (bl_fw_keys_load_one(file, z85, err, sizeof(err))) {
		fprintf(stderr, "beamloop fw: --server-key: %s\n", err);
		if (strlen(arg) == BL_FW_KEY_Z85_LEN)
			fprintf(stderr, "  (and '%s' is not a valid Z85 key either)\n", arg);
		return EXIT_USAGE;
	}
	return 0;
}

/* Loads the keys and opens the client; 0 or the exit code after printing why. */
static int connect_fw(const struct fw_opts *o, struct fw_conn *k)
{
	*k = (struct fw_conn){.endpoint = o->endpoint ? o->endpoint : BL_FW_CMD_ENDPOINT,
			      .timeout_ms = o->timeout_ms,
			      .key_prefix = o->key};
	if (!o->server_key || !*o->server_key) {
		fprintf(stderr, "beamloop fw: no controller key: give --server-key FILE|Z85 or set "
				"BEAMLOOP_FW_SERVER_KEY (beamloop-fw's PREFIX.pub)\n");
		return EXIT_USAGE;
	}
	if (!o->key || !*o->key) {
		fprintf(stderr, "beamloop fw: no client key: give --key PREFIX or set "
				"BEAMLOOP_FW_KEY (make one with `beamloop fw keygen PREFIX`)\n");
		return EXIT_USAGE;
	}
	char server[BL_FW_KEY_Z85_LEN + 1], sec[BL_FW_KEY_Z85_LEN + 1], err[512];
	int rc = load_server_key(o->server_key, server);
	if (rc)
		return rc;
	rc = bl_fw_keys_load(o->key, k->pub, sec, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "beamloop fw: --key: %s\n", err);
		if (rc == -ENOENT)
			fprintf(stderr,
				"  (make a key pair with `beamloop fw keygen %s` and add %s.pub "
				"to beamloop-fw's --allow list)\n",
				o->key, o->key);
		return EXIT_USAGE;
	}
	struct bl_fw_client_config cfg = {
	    .endpoint = k->endpoint, .server_key = server, .public_key = k->pub, .secret_key = sec};
	rc = bl_fw_client_open(&k->c, &cfg);
	memset(sec, 0, sizeof(sec));
	if (rc) {
		fprintf(stderr, "beamloop fw: cannot use endpoint '%s': %s\n", k->endpoint,
			strerror(-rc));
		return EXIT_USAGE;
	}
	return 0;
}

/* One call. 0 with *res the result; else the exit code after printing why (*res: the
 * controller's error object when it answered one, else NULL). */
static int fw_call(struct fw_conn *k, const char *cmd, const cJSON *args, cJSON **res)
{
	int rc = bl_fw_client_call(k->c, cmd, args, k->timeout_ms, res);
	if (!rc)
		return 0;
	if (*res) { /* the controller said no */
		const char *name =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*res, "name"));
		const char *msg =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*res, "message"));
		char ename[16];
		if (!name && !(name = bl_fw_errname(-rc))) {
			snprintf(ename, sizeof(ename), "E%d", -rc);
			name = ename;
		}
		fprintf(stderr, "beamloop fw: %s: %s: %s\n", cmd, name, msg ? msg : strerror(-rc));
		return EXIT_ERROR;
	}
	if (rc == -ETIMEDOUT) {
		fprintf(stderr,
			"beamloop fw: no answer from %s within %d ms (is beamloop-fw running? is "
			"--server-key its key?)\n",
			k->endpoint, k->timeout_ms);
		return EXIT_NO_ANSWER;
	}
	if (rc == -EACCES) {
		fprintf(stderr,
			"beamloop fw: the controller at %s refused this client's key: it is not on "
			"the controller's allow-list\n"
			"  this client's public key (%s.pub): %s\n"
			"  add that file (or the key, one per line) to beamloop-fw's --allow "
			"directory or file\n",
			k->endpoint, k->key_prefix, k->pub);
		return EXIT_REFUSED;
	}
	const char *why = bl_fw_client_error(k->c);
	fprintf(stderr, "beamloop fw: %s: %s\n", cmd, why && *why ? why : strerror(-rc));
	return EXIT_ERROR;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The connection and CURVE handshake happen at the first request: the built-in "clock" (the
 * transport answers it, no command runs) takes them, so the pings time the round trip only. */
static int run_ping(struct fw_conn *k, int count)
{
	cJSON *res = NULL;
	int rc = fw_call(k, BL_FW_CMD_CLOCK, NULL, &res);
	cJSON_Delete(res);
	double min = 1e300, sum = 0;
	for (int i = 0; i < count && !rc; i++) {
		double t0 = mono_ms();
		rc = fw_call(k, "ping", NULL, &res);
		double ms = mono_ms() - t0;
		if (!rc) {
			const cJSON *now = cJSON_GetObjectItemCaseSensitive(res, "now");
			printf("ping %s: round trip %.3f ms", k->endpoint, ms);
			if (cJSON_IsNumber(now))
				printf(" (controller clock %.6f s)", now->valuedouble / 1e6);
			printf("\n");
			min = ms < min ? ms : min;
			sum += ms;
		}
		cJSON_Delete(res);
		res = NULL;
	}
	if (!rc && count > 1)
		printf("%d pings: min %.3f ms, mean %.3f ms\n", count, min, sum / count);
	return rc;
}

static const char *login_name(void)
{
	const struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return pw->pw_name;
	const char *u = getenv("USER");
	return u && *u ? u : NULL;
}

/* Builds the request of a verb that sends one command (not queue, ping, keygen); NULL args
 * when it has none. 0, or the exit code after printing why. */
static int one_request(const struct fw_opts *o, const char **cmd, cJSON **args)
{
	int v;
	*cmd = verbs[o->verb].name;
	*args = NULL;
	switch (o->verb) {
	case V_LOOP:
		if (o->reset)
			cJSON_AddBoolToObject(*args = cJSON_CreateObject(), "reset", true);
		return 0;
	case V_SCAN:
		if (!parse_int(o->words[0], INT_MIN, INT_MAX, &v))
			return usage_error("scan takes a puck number, not '%s'", o->words[0]);
		cJSON_AddNumberToObject(*args = cJSON_CreateObject(), "puck", v);
		return 0;
	case V_PAUSE:
	case V_RESUME:
	case V_ABORT:
	case V_RESET:
		if (o->loc && !loc_ok(o->loc))
			return usage_error("--loc is slot, gripper or stage, not '%s'", o->loc);
		if (o->cycle && strcmp(o->cycle, "sample") && strcmp(o->cycle, "print"))
			return usage_error("--cycle is sample or print, not '%s'", o->cycle);
		if (o->loc || o->cycle)
			*args = cJSON_CreateObject();
		if (o->loc)
			cJSON_AddStringToObject(*args, "loc", o->loc);
		if (o->cycle)
			cJSON_AddStringToObject(*args, "cycle", o->cycle);
		return 0;
	case V_RESOLVE: {
		if (!parse_int(o->words[0], INT_MIN, INT_MAX, &v))
			return usage_error("resolve takes a sample number (position index), not "
					   "'%s'",
					   o->words[0]);
		if (!loc_ok(o->words[1]))
			return usage_error("the location is slot, gripper or stage, not '%s'",
					   o->words[1]);
		const char *who = o->who ? o->who : login_name();
		*args = cJSON_CreateObject();
		cJSON_AddNumberToObject(*args, "sample", v);
		cJSON_AddStringToObject(*args, "loc", o->words[1]);
		if (who)
			cJSON_AddStringToObject(*args, "who", who);
		return 0;
	}
	case V_PRINT: *args = read_json_object(o->words[0]); return *args ? 0 : EXIT_USAGE;
	case V_CALL:
		*cmd = o->words[0];
		if (!**cmd || strlen(*cmd) > BL_FW_CMD_MAX)
			return usage_error("a command name is 1..63 characters: '%s'", *cmd);
		if (o->nwords > 1) {
			*args = cJSON_Parse(o->words[1]);
			if (!cJSON_IsObject(*args)) {
				cJSON_Delete(*args);
				*args = NULL;
				return usage_error(
				    "the arguments are a JSON object ({...}), not '%s'",
				    o->words[1]);
			}
		}
		return 0;
	default: return 0;
	}
}

/* queue N...: one request per sample, in order; stops at the first refusal. */
static int run_queue(const struct fw_opts *o, struct fw_conn *k, const int *samples)
{
	for (int i = 0; i < o->nwords; i++) {
		cJSON *args = cJSON_CreateObject(), *res = NULL;
		cJSON_AddNumberToObject(args, "sample", samples[i]);
		int rc = fw_call(k, "queue", args, &res);
		cJSON_Delete(args);
		if (!rc)
			bl_cli_fw_print_queued(samples[i], res);
		cJSON_Delete(res);
		if (rc) {
			if (i + 1 < o->nwords) {
				fprintf(stderr, "beamloop fw: not sent:");
				for (int j = i + 1; j < o->nwords; j++)
					fprintf(stderr, " %d", samples[j]);
				fprintf(stderr, "\n");
			}
			return rc;
		}
	}
	return 0;
}

static int run_keygen(const char *prefix)
{
	char pub[BL_FW_KEY_Z85_LEN + 1], err[512];
	if (bl_fw_keys_generate(prefix, pub, err, sizeof(err))) {
		fprintf(stderr, "beamloop fw: keygen: %s\n", err);
		return EXIT_ERROR;
	}
	printf("%s\n", pub);
	fprintf(stderr,
		"wrote %s.key (secret, 0600) and %s.pub; add %s.pub to beamloop-fw's --allow "
		"list\n",
		prefix, prefix, prefix);
	return 0;
}

/* Sends the verb's command(s) and shows the answer; the exit code. */
static int run_verb(const struct fw_opts *o, struct fw_conn *k, const int *samples, const char *cmd,
		    const cJSON *args)
{
	if (o->verb == V_PING)
		return run_ping(k, o->count);
	if (o->verb == V_QUEUE)
		return run_queue(o, k, samples);
	cJSON *res = NULL;
	int rc = fw_call(k, cmd, args, &res);
	if (o->verb == V_CALL && res) {
		/* the raw reply, the controller's error object included */
		char *text = cJSON_Print(res);
		if (text)
			printf("%s\n", text);
		free(text);
	} else if (!rc) {
		switch (o->verb) {
		case V_STATUS:
			if (o->json) {
				char *text = cJSON_Print(res);
				if (text)
					printf("%s\n", text);
				free(text);
			} else {
				bl_cli_fw_print_status(res);
			}
			break;
		case V_LOOP: bl_cli_fw_print_loop(res, o->reset); break;
		default: bl_cli_fw_print_done(cmd, res); break;
		}
	}
	cJSON_Delete(res);
	return rc;
}

int bl_cli_fw(int argc, char **argv)
{
	struct fw_opts o;
	int rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.verb == V_KEYGEN)
		return run_keygen(o.words[0]);
	/* Everything the user typed is checked before any key is read or socket opened. */
	int samples[FW_MAX_WORDS];
	const char *cmd = NULL;
	cJSON *args = NULL;
	if (o.verb == V_QUEUE) {
		for (int i = 0; i < o.nwords; i++)
			if (!parse_int(o.words[i], INT_MIN, INT_MAX, &samples[i]))
				return usage_error("queue takes sample numbers (position indices), "
						   "not '%s'",
						   o.words[i]);
	} else if (o.verb != V_PING && (rc = one_request(&o, &cmd, &args))) {
		return rc;
	}
	struct fw_conn k;
	rc = connect_fw(&o, &k);
	if (!rc)
		rc = run_verb(&o, &k, samples, cmd, args);
	cJSON_Delete(args);
	bl_fw_client_close(k.c);
	return rc;
}

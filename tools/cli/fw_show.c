/* fw_show.c: how `beamloop fw` shows the controller's replies: status table, loop figures,
 * one-line outcomes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_show.h"

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str(const cJSON *o, const char *key, const char *dflt)
{
	const char *s = cJSON_GetStringValue(item(o, key));
	return s ? s : dflt;
}

/* A number of O with DEC decimals into BUF, or "?" when missing. */
static const char *num(const cJSON *o, const char *key, int dec, char *buf, size_t n)
{
	const cJSON *x = item(o, key);
	if (!cJSON_IsNumber(x))
		return "?";
	snprintf(buf, n, "%.*f", dec, x->valuedouble);
	return buf;
}

static int int_of(const cJSON *o, const char *key, int dflt)
{
	const cJSON *x = item(o, key);
	return cJSON_IsNumber(x) ? x->valueint : dflt;
}

static void print_holds(const cJSON *st)
{
	const cJSON *h = item(st, "hold"), *e;
	int n = 0;
	cJSON_ArrayForEach(e, h)
	{
		if (cJSON_IsString(e))
			printf("%s%s", n++ ? ", " : "", e->valuestring);
	}
	if (!n)
		printf("none");
}

/* The position SAMPLE as "puck P slot S, BARCODE" from the status, or "" when not listed. */
static void describe(const cJSON *st, int sample, char *buf, size_t n)
{
	const cJSON *p = cJSON_GetArrayItem(item(st, "positions"), sample);
	buf[0] = 0;
	if (sample >= 0 && cJSON_IsObject(p))
		snprintf(buf, n, " (puck %d slot %d, %s)", int_of(p, "puck", 0),
			 int_of(p, "slot", 0), str(p, "barcode", "?"));
}

/* The start-up block (unknown sample locations) and the fault record, when there are. */
static void print_trouble(const cJSON *st)
{
	const char *blk = str(st, "blocked", NULL);
	const cJSON *f = item(st, "fault"), *e;
	char b[32];
	if (blk) {
		printf("BLOCKED   %s\n", blk);
		cJSON_ArrayForEach(e, item(st, "unknown"))
		{
			if (cJSON_IsString(e))
				printf("  %s\n", e->valuestring);
		}
	}
	if (cJSON_IsObject(f)) {
		int s = int_of(f, "sample", -1);
		printf("FAULT     reason %s: %s", num(f, "reason", 0, b, sizeof(b)),
		       str(f, "error", "?"));
		if (s >= 0)
			printf(", sample %d", s);
		printf(" (last known %s, moving to %s)\n", str(f, "last_known", "?"),
		       str(f, "moving_to", "?"));
		printf("  safe state; when the cause is cleared: beamloop fw reset "
		       "[--loc slot|gripper|stage]\n");
	}
}

/* The print cycle's part of a status ("print"), when the controller has a printer. */
static void printer_line(const cJSON *pr)
{
	if (!cJSON_IsObject(pr) || cJSON_IsFalse(item(pr, "present")))
		return;
	const cJSON *run = item(pr, "run");
	printf("printer   %s, holds: ", str(pr, "state", "?"));
	print_holds(pr);
	if (cJSON_IsObject(run))
		printf(", run %d '%s' (%s)", int_of(run, "id", 0), str(run, "label", ""),
		       str(run, "mode", "?"));
	printf("\n");
}

static void state_line(const cJSON *st)
{
	char d[96];
	int cur = int_of(st, "current", -1);
	printf("state %s, holds: ", str(st, "state", "?"));
	print_holds(st);
	describe(st, cur, d, sizeof(d));
	if (cur >= 0)
		printf(", current sample %d%s", cur, d);
	printf(", %d queued\n", int_of(st, "queued", 0));
}

static void print_table(const cJSON *ps)
{
	size_t wb = strlen("barcode");
	const cJSON *p;
	cJSON_ArrayForEach(p, ps)
	{
		size_t b = strlen(str(p, "barcode", ""));
		wb = b > wb ? b : wb;
	}
	printf("  %3s %4s %4s  %-*s  %-11s %-8s %-8s %-8s %6s  %s\n", "#", "puck", "slot", (int)wb,
	       "barcode", "state", "loc", "scan", "measured", "series", "read");
	int i = 0;
	cJSON_ArrayForEach(p, ps)
	{
		int series = int_of(p, "series", 0);
		char sb[16];
		snprintf(sb, sizeof(sb), "%d", series);
		const char *read = str(p, "read", "");
		printf("  %3d %4d %4d  %-*s  %-11s %-8s %-8s %-8s %6s  %s\n", i++,
		       int_of(p, "puck", 0), int_of(p, "slot", 0), (int)wb, str(p, "barcode", "?"),
		       str(p, "state", "?"), str(p, "loc", "?"), str(p, "scan", "?"),
		       int_of(p, "measured", 0) ? "yes" : "no", series ? sb : "-",
		       *read ? read : "-");
	}
}

void bl_cli_fw_print_status(const cJSON *st)
{
	char d[96];
	int cur = int_of(st, "current", -1);
	printf("state     %s\n", str(st, "state", "?"));
	printf("holds     ");
	print_holds(st);
	describe(st, cur, d, sizeof(d));
	if (cur >= 0)
		printf("\ncurrent   sample %d%s\n", cur, d);
	else
		printf("\ncurrent   none\n");
	printf("queued    %d\n", int_of(st, "queued", 0));
	print_trouble(st);
	printer_line(item(st, "print"));
	const cJSON *ps = item(st, "positions");
	printf("positions %d\n", cJSON_GetArraySize(ps));
	if (cJSON_GetArraySize(ps))
		print_table(ps);
	const cJSON *c = item(st, "counters"), *e;
	if (cJSON_IsObject(c)) {
		int n = 0;
		printf("counters ");
		cJSON_ArrayForEach(e, c)
		{
			if (cJSON_IsNumber(e))
				printf("%s %s %.0f", n++ ? "," : "", e->string, e->valuedouble);
		}
		printf("\n");
	}
}

void bl_cli_fw_print_loop(const cJSON *lp, bool reset)
{
	char b[8][32];
	printf("loop: period %s us, SCHED_FIFO %s, mlockall %s, %s loops, %s overruns\n",
	       num(lp, "period_us", 0, b[0], 32), cJSON_IsTrue(item(lp, "fifo")) ? "yes" : "no",
	       cJSON_IsTrue(item(lp, "mlocked")) ? "yes" : "no", num(lp, "loops", 0, b[1], 32),
	       num(lp, "overruns", 0, b[2], 32));
	printf("wake-up latency over %s s (%s samples): mean %s us, p50 %s us, p99 %s us, "
	       "p99.9 %s us, max %s us\n",
	       num(lp, "seconds", 1, b[3], 32), num(lp, "samples", 0, b[4], 32),
	       num(lp, "mean_us", 1, b[5], 32), num(lp, "p50_us", 1, b[6], 32),
	       num(lp, "p99_us", 1, b[7], 32), num(lp, "p999_us", 1, b[0], 32),
	       num(lp, "max_us", 1, b[1], 32));
	if (reset)
		printf("(a new measuring window starts now)\n");
}

void bl_cli_fw_print_queued(int sample, const cJSON *st)
{
	char d[96];
	describe(st, sample, d, sizeof(d));
	printf("queued sample %d%s; ", sample, d);
	state_line(st);
}

void bl_cli_fw_print_done(const char *cmd, const cJSON *res)
{
	if (cJSON_IsObject(res) && cJSON_IsString(item(res, "state"))) {
		printf("%s: ok; ", cmd);
		state_line(res);
		print_trouble(res);
		printer_line(item(res, "print"));
		return;
	}
	if (cJSON_IsNumber(item(res, "started")) && cJSON_IsObject(item(res, "print"))) {
		printf("%s: ok; print %d started\n", cmd, int_of(res, "started", 0));
		printer_line(item(res, "print"));
		return;
	}
	if (!res || (cJSON_IsObject(res) && !res->child)) {
		printf("%s: ok\n", cmd);
		return;
	}
	char *text = cJSON_Print(res);
	printf("%s: ok\n%s\n", cmd, text ? text : "");
	free(text);
}

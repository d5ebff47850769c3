/* test_epson_proto.c: the Epson RC+ line parser and formatter on valid lines and on garbage
 * (truncated, binary, overlong, malformed codes), the status flags, the error table and SPEL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../check.h"
#include "epson_proto.h"
#include "epson_spel.h"

static int parse(const char *line, struct bl_epson_reply *r)
{
	return bl_epson_parse_reply(line, strlen(line), r, NULL);
}

static void test_valid(void)
{
	struct bl_epson_reply r;
	CHECK_EQ_INT(parse("#Login,0", &r), 0);
	CHECK(r.ok);
	CHECK_STR(r.cmd, "Login");
	CHECK_EQ_INT(r.nfields, 1);
	CHECK_STR(r.fields[0], "0");
	CHECK_EQ_INT(parse("!Execute,99", &r), 0);
	CHECK(!r.ok);
	CHECK_EQ_INT(r.code, 99);
	CHECK_STR(r.cmd, "Execute");
	CHECK_EQ_INT(parse("#GetStatus,01100000001,4242", &r), 0);
	struct bl_epson_status st;
	CHECK_EQ_INT(bl_epson_parse_status(&r, &st), 0);
	CHECK_EQ_INT(st.code, 4242);
	CHECK(st.flags & BL_EPSON_FLAG(BL_EPSON_F_TEACH));
	CHECK(st.flags & BL_EPSON_FLAG(BL_EPSON_F_AUTO));
	CHECK(st.flags & BL_EPSON_FLAG(BL_EPSON_F_READY));
	CHECK(!(st.flags & BL_EPSON_FLAG(BL_EPSON_F_TEST)));
	CHECK(!(st.flags & BL_EPSON_FLAG(BL_EPSON_F_ERROR)));
	char buf[32];
	bl_epson_format_status(buf, sizeof(buf), &st);
	CHECK_STR(buf, "01100000001,4242");
	CHECK_EQ_INT(parse("#Logout", &r), 0);
	CHECK_EQ_INT(r.nfields, 0);
	CHECK_EQ_INT(parse("#GetVariable,", &r), 0); /* empty string value */
	CHECK_EQ_INT(r.nfields, 1);
	CHECK_STR(r.fields[0], "");
}

static void test_garbage(void)
{
	static const char *const bad[] = {
	    "",			    /* empty */
	    "Login,0",		    /* no prefix */
	    "$Login,0",		    /* a command, not a reply */
	    "#",		    /* no name */
	    "#,0",		    /* no name */
	    "#Log in,0",	    /* space in name */
	    "!Login",		    /* error without code */
	    "!Login,",		    /* empty code */
	    "!Login,1a",	    /* code not a number */
	    "!Login,1234",	    /* code too long */
	    "!Login,00",	    /* code 0 is not an error */
	    "!Login,13,4",	    /* extra field */
	    "#Get\x01Status,0",	    /* control byte */
	    "#GetStatus,0\r",	    /* stray CR */
	    "#\xff\xfe",	    /* binary */
	    "#A,1,2,3,4,5,6,7,8,9", /* too many fields */
	    "#ThisCommandNameIsMuchTooLongToBeReal,0",
	};
	struct bl_epson_reply r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		int rc = bl_epson_parse_reply(bad[i], strlen(bad[i]), &r, &why);
		if (rc != -EBADMSG || !why || !*why)
			fprintf(stderr, "accepted garbage #%zu\n", i);
		CHECK_EQ_INT(rc, -EBADMSG);
	}
	/* Over-long line; a NULL line; every length prefix of a valid line. */
	char big[BL_EPSON_LINE_MAX + 10];
	memset(big, 'A', sizeof(big));
	big[0] = '#';
	CHECK_EQ_INT(bl_epson_parse_reply(big, sizeof(big), &r, NULL), -EBADMSG);
	CHECK_EQ_INT(bl_epson_parse_reply(NULL, 0, &r, NULL), -EBADMSG);
	char field[BL_EPSON_ARG_MAX + 10] = "#X,";
	memset(field + 3, '1', BL_EPSON_ARG_MAX + 2);
	field[sizeof(field) - 1] = 0;
	CHECK_EQ_INT(parse(field, &r), -EBADMSG);
	const char *ok = "!GetStatus,98";
	for (size_t n = 0; n < strlen(ok); n++) {
		/* Not NUL-terminated at N: the parser must stay inside the length it was given. */
		char *copy = malloc(n ? n : 1);
		memcpy(copy, ok, n);
		int rc = bl_epson_parse_reply(copy, n, &r, NULL);
		CHECK(rc == -EBADMSG || (rc == 0 && n >= strlen("!GetStatus,9")));
		free(copy);
	}
	/* Pseudo-random bytes: never crash, never read past the end (ASan build). */
	unsigned seed = 12345;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % 40);
		char *b = malloc(n ? n : 1);
		for (size_t k = 0; k < n; k++)
			b[k] = (char)(k == 0 ? "#!$x"[rand_r(&seed) % 4] : rand_r(&seed) % 256);
		if (bl_epson_parse_reply(b, n, &r, NULL) == 0)
			CHECK(r.cmd[0] != 0);
		struct bl_epson_request rq;
		bl_epson_parse_request(b, n, &rq);
		free(b);
	}
	/* Status fields must be 11 binary flags and 4 digits. */
	static const char *const bad_status[] = {
	    "#GetStatus,0110000000,0000",  "#GetStatus,011000000012,0000",
	    "#GetStatus,01100000002,0000", "#GetStatus,01100000001,000",
	    "#GetStatus,01100000001,00x0", "#GetStatus,01100000001",
	    "#Login,01100000001,0000"};
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		struct bl_epson_status st;
		CHECK_EQ_INT(parse(bad_status[i], &r), 0);
		CHECK_EQ_INT(bl_epson_parse_status(&r, &st), -EBADMSG);
	}
}

static void test_requests(void)
{
	struct bl_epson_request rq;
	const char *l = "$Execute,\"Go XY(350,-120,-80,0)\"";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), 0);
	CHECK_STR(rq.cmd, "Execute");
	CHECK_EQ_INT(rq.nargs, 1);
	CHECK(rq.quoted[0]);
	CHECK_STR(rq.args[0], "Go XY(350,-120,-80,0)");
	l = "$SetIO,8,1";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), 0);
	CHECK_EQ_INT(rq.nargs, 2);
	CHECK_STR(rq.args[1], "1");
	l = "GetStatus";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), BL_EPSON_E_NO_DOLLAR);
	CHECK_STR(rq.cmd, "GetStatus");
	l = "$Execute,\"Go P1";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), BL_EPSON_E_FORMAT);
	l = "$SetIO,,1";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), BL_EPSON_E_FORMAT);
	l = "$";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), BL_EPSON_E_BAD_CMD);
	l = "$Get Status";
	CHECK_EQ_INT(bl_epson_parse_request(l, strlen(l), &rq), BL_EPSON_E_FORMAT);

	char buf[300];
	CHECK_EQ_INT(bl_epson_format_cmd(buf, sizeof(buf), "\r\n", "SetIO", "8,1"), 12);
	CHECK_STR(buf, "$SetIO,8,1\r\n");
	CHECK(bl_epson_format_execute(buf, sizeof(buf), "\r\n", "Go XY(1,2,3,4)") > 0);
	CHECK_STR(buf, "$Execute,\"Go XY(1,2,3,4)\"\r\n");
	CHECK_EQ_INT(bl_epson_format_execute(buf, sizeof(buf), "\r\n", "Print \"x\""), -EINVAL);
	CHECK_EQ_INT(bl_epson_format_cmd(buf, sizeof(buf), "\r\n", "Login", "a\r\nb"), -EINVAL);
	CHECK_EQ_INT(bl_epson_format_cmd(buf, 8, "\r\n", "GetStatus", NULL), -ENOSPC);
	CHECK(bl_epson_format_reply(buf, sizeof(buf), "\n", "Reset", false, 20, NULL) > 0);
	CHECK_STR(buf, "!Reset,20\n");
}

static void test_errors(void)
{
	static const struct {
		int code, err;
		const char *word;
	} t[] = {
	    {10, -EPROTO, "'$'"},	  {11, -EBADRQC, "wrong"},    {12, -EINVAL, "format"},
	    {13, -EACCES, "password"},	  {14, -EPERM, "privilege"},  {15, -EOPNOTSUPP, "state"},
	    {19, -ETIMEDOUT, "time-out"}, {20, -EAGAIN, "not ready"}, {21, -EBUSY, "running"},
	    {98, -ENOKEY, "login"},	  {99, -EIO, "system"}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK_EQ_INT(bl_epson_errno(t[i].code), t[i].err);
		CHECK(strstr(bl_epson_strerror(t[i].code), t[i].word) != NULL);
	}
	CHECK_EQ_INT(bl_epson_errno(42), -EIO);
	CHECK_STR(bl_epson_strerror(42), "unknown remote error");
	CHECK_STR(bl_epson_robot_strerror(BL_EPSON_RERR_COLLISION), "collision detected");
	CHECK_STR(bl_epson_flag_name(BL_EPSON_F_SAFEGUARD), "Safeguard");
	char term[8];
	CHECK_EQ_INT(bl_epson_unescape("\\r\\n", term, sizeof(term)), 0);
	CHECK_STR(term, "\r\n");
	CHECK_EQ_INT(bl_epson_unescape("\\q", term, sizeof(term)), -EINVAL);
}

static void test_spel(void)
{
	struct bl_spel_stmt st;
	CHECK_EQ_INT(bl_spel_parse("Go XY(350,-120,-80,0)", &st), 0);
	CHECK_EQ_INT(st.kind, BL_SPEL_GO);
	CHECK_NEAR(st.p.y, -120, 0);
	CHECK_EQ_INT(bl_spel_parse("jump  XY( 1.5 , 2 , -3 , 90 )", &st), 0);
	CHECK_EQ_INT(st.kind, BL_SPEL_JUMP);
	CHECK_NEAR(st.p.u, 90, 0);
	CHECK_EQ_INT(bl_spel_parse("On 8", &st), 0);
	CHECK_EQ_INT(st.bit, 8);
	CHECK_EQ_INT(bl_spel_parse("SpeedS 600", &st), 0);
	CHECK_EQ_INT(st.kind, BL_SPEL_SPEEDS);
	CHECK_EQ_INT(bl_spel_parse("Accel 30,40", &st), 0);
	CHECK_NEAR(st.value[1], 40, 0);
	static const char *const bad[] = {"Go",
					  "Go XY(1,2,3)",
					  "Go XY(1,2,3,4",
					  "Go XY(1,2,3,4) x",
					  "Go P1",
					  "Fly XY(1,2,3,4)",
					  "Speed 0",
					  "Speed 101",
					  "On -1",
					  "On 1.5",
					  "Accel 30",
					  "Go XY(nan,1,2,3)",
					  "GoXY(1,2,3,4)",
					  "Wait -1",
					  ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bl_spel_parse(bad[i], &st) != -EINVAL)
			fprintf(stderr, "accepted SPEL \"%s\"\n", bad[i]);
		CHECK_EQ_INT(bl_spel_parse(bad[i], &st), -EINVAL);
	}
	char buf[80];
	struct bl_point p = {350, -107.88, -80, 0};
	CHECK(bl_spel_format_motion(buf, sizeof(buf), BL_SPEL_MOVE, &p) > 0);
	CHECK_STR(buf, "Move XY(350.000,-107.880,-80.000,0.000)");
	CHECK_EQ_INT(bl_spel_parse(buf, &st), 0);
	CHECK_NEAR(st.p.y, -107.88, 1e-9);
}

int main(void)
{
	test_valid();
	test_garbage();
	test_requests();
	test_errors();
	test_spel();
	return CHECK_DONE();
}

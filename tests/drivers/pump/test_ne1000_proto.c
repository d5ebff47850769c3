/* test_ne1000_proto.c: NE-1000 reply parsing (good, alarm, error, garbage) and number/rate
 * formatting. */
#include <errno.h>
#include <stdlib.h>

#include "../../check.h"
#include "ne1000_proto.h"

static int parse(const char *s, struct bl_ne_reply *r)
{
	return bl_ne_parse_reply(s, strlen(s), r);
}

int main(void)
{
	struct bl_ne_reply r;
	CHECK_EQ_INT(parse("\x02"
			   "00S\x03",
			   &r),
		     0);
	CHECK_EQ_INT(r.address, 0);
	CHECK_EQ_INT(r.state, BL_NE_STOPPED);
	CHECK_STR(r.data, "");
	CHECK_EQ_INT(parse("\x02"
			   "07I14.57\x03",
			   &r),
		     0);
	CHECK_EQ_INT(r.address, 7);
	CHECK_EQ_INT(r.state, BL_NE_INFUSING);
	CHECK_STR(r.data, "14.57");
	CHECK_EQ_INT(parse("\x02"
			   "00A?S\x03",
			   &r),
		     0);
	CHECK_EQ_INT(r.state, BL_NE_ALARM);
	CHECK_EQ_INT(r.alarm, BL_NE_ALARM_STALL);
	CHECK_EQ_INT(parse("\x02"
			   "00A?R\x03",
			   &r),
		     0);
	CHECK_EQ_INT(r.alarm, BL_NE_ALARM_RESET);
	const struct {
		const char *pkt;
		enum bl_ne_error e;
		int err;
	} errs[] = {{"\x02"
		     "00S?\x03",
		     BL_NE_ERR_UNKNOWN, -EBADRQC},
		    {"\x02"
		     "00I?NA\x03",
		     BL_NE_ERR_NA, -EPERM},
		    {"\x02"
		     "00S?OOR\x03",
		     BL_NE_ERR_OOR, -ERANGE},
		    {"\x02"
		     "00S?COM\x03",
		     BL_NE_ERR_COM, -EPROTO},
		    {"\x02"
		     "00S?IGN\x03",
		     BL_NE_ERR_IGN, -EAGAIN}};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		CHECK_EQ_INT(parse(errs[i].pkt, &r), 0);
		CHECK_EQ_INT(r.error, errs[i].e);
		CHECK_EQ_INT(bl_ne_error_errno(r.error), errs[i].err);
	}
	/* garbage: every one rejected, none read past its length */
	const char *bad[] = {
	    "",
	    "\x02",
	    "\x02\x03",
	    "00S",
	    "\x02"
	    "00S",
	    "\x02"
	    "0xS\x03",
	    "\x02"
	    "00Q\x03",
	    "\x02"
	    "00A?\x03",
	    "\x02"
	    "00A?Z\x03",
	    "\x02"
	    "00S?XYZ\x03",
	    "\x02"
	    "00S\x01\x03",
	    "\x02"
	    "00S0123456789012345678901234567890123456789012345678901234567890123456789\x03"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse(bad[i], &r), -EBADMSG);
	srand(3);
	for (int i = 0; i < 100000; i++) {
		char buf[24];
		size_t n = (size_t)(rand() % 24);
		for (size_t k = 0; k < n; k++)
			buf[k] = (char)(rand() % 5 == 0 ? "\x02\x03?A"[rand() % 4] : rand());
		bl_ne_parse_reply(buf, n, &r); /* must not crash or overrun (ASan) */
	}

	char f[8];
	CHECK_EQ_INT(bl_ne_format_float(14.57, f), 0);
	CHECK_STR(f, "14.57");
	CHECK_EQ_INT(bl_ne_format_float(0.1234, f), 0);
	CHECK_STR(f, "0.123");
	CHECK_EQ_INT(bl_ne_format_float(9.9996, f), 0);
	CHECK_STR(f, "10.00");
	CHECK_EQ_INT(bl_ne_format_float(1234.4, f), 0);
	CHECK_STR(f, "1234");
	CHECK_EQ_INT(bl_ne_format_float(10000, f), -ERANGE);
	CHECK_EQ_INT(bl_ne_format_float(-1, f), -ERANGE);

	char cmd[24];
	double ul;
	CHECK_EQ_INT(bl_ne_format_rate(1.0, cmd, sizeof(cmd)), 0);
	CHECK_STR(cmd, "RAT60.00UH");
	CHECK_EQ_INT(bl_ne_format_rate(500.0, cmd, sizeof(cmd)), 0);
	CHECK_STR(cmd, "RAT500.0UM");
	CHECK_EQ_INT(bl_ne_format_rate(25000.0, cmd, sizeof(cmd)), 0);
	CHECK_STR(cmd, "RAT1500MH");
	CHECK_EQ_INT(bl_ne_format_rate(0, cmd, sizeof(cmd)), -ERANGE);
	for (double v = 0.5; v < 20000; v *= 1.37) { /* round trip within the unit's resolution */
		CHECK_EQ_INT(bl_ne_format_rate(v, cmd, sizeof(cmd)), 0);
		CHECK_EQ_INT(bl_ne_parse_rate(cmd + 3, &ul), 0);
		CHECK(ul > v * 0.995 && ul < v * 1.005);
	}
	CHECK_EQ_INT(bl_ne_parse_rate("1.000MM", &ul), 0);
	CHECK_NEAR(ul, 1000.0, 1e-9);
	CHECK_EQ_INT(bl_ne_parse_rate("1.0XX", &ul), -EBADMSG);
	CHECK_EQ_INT(bl_ne_parse_rate("1..0UM", &ul), -EBADMSG);
	CHECK_EQ_INT(bl_ne_parse_volume("0.250ML", &ul), 0);
	CHECK_NEAR(ul, 250.0, 1e-9);
	double i, w;
	CHECK_EQ_INT(bl_ne_parse_dispensed("I1.500W0.020ML", &i, &w), 0);
	CHECK_NEAR(i, 1500.0, 1e-9);
	CHECK_NEAR(w, 20.0, 1e-9);
	CHECK_EQ_INT(bl_ne_parse_dispensed("I1.500X0.020ML", &i, &w), -EBADMSG);
	CHECK_EQ_INT(bl_ne_parse_dispensed("I1.5W", &i, &w), -EBADMSG);
	CHECK_EQ_INT(bl_ne_format_command(0, "RUN", cmd, sizeof(cmd)), 0);
	CHECK_STR(cmd, "0RUN\r");
	CHECK_EQ_INT(bl_ne_format_command(-1, "STP", cmd, sizeof(cmd)), 0);
	CHECK_STR(cmd, "STP\r");
	return CHECK_DONE();
}

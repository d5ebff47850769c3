/* test_epson_cycle.c: the Epson driver against bl-epson-sim over TCP: pick, barcode pose, stage and
 * return for every slot of the sim beamline, checked against the simulator's physical state. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../check.h"
#include "epson_harness.h"

static struct harness t;

static void check_at(int puck, int slot, enum bl_robot_sample_at at, enum bl_robot_place place)
{
	struct bl_robot_state st;
	bl_epson_state(t.h, &st);
	CHECK_EQ_INT(st.sample.at, at);
	if (at != BL_SAMPLE_HOME) {
		CHECK_EQ_INT(st.sample.puck, puck);
		CHECK_EQ_INT(st.sample.slot, slot);
		CHECK(st.sample.confirmed);
	}
	CHECK_EQ_INT(st.where.place, place);
	CHECK(!st.off_pose);
}

static void cycle(int puck, int slot, bool first)
{
	struct bl_epson *h = t.h;
	long id = puck * 100 + slot;
	CHECK_EQ_INT(h_run(h, bl_epson_pick(h, puck, slot, h_now()), 2000), 0);
	check_at(puck, slot, BL_SAMPLE_GRIPPER, BL_ROBOT_AT_SAFE);
	CHECK_EQ_INT(h_state(&t, "held"), id);
	CHECK_EQ_INT(h_slot(&t, puck, slot), 0);

	CHECK_EQ_INT(h_run(h, bl_epson_go_barcode_pose(h, h_now()), 2000), 0);
	check_at(puck, slot, BL_SAMPLE_GRIPPER, BL_ROBOT_AT_BARCODE);
	if (first) { /* the sim robot really stands at the reader */
		char reply[512];
		h_ctl(&t, "state", reply, sizeof(reply));
		CHECK(strstr(reply, "pos=250.000,-330.000,-90.000,0.000") != NULL);
		/* Not a safe pose: planned motions refuse to start from here. */
		CHECK_EQ_INT(bl_epson_place_on_stage(h, h_now()), -EPERM);
		CHECK(strstr(bl_epson_result(h)->text, "safe pose") != NULL);
	}
	CHECK_EQ_INT(h_run(h, bl_epson_go_safe(h, h_now()), 2000), 0);
	struct bl_robot_state st;
	bl_epson_state(h, &st);
	CHECK_EQ_INT(st.where.place, BL_ROBOT_AT_SAFE);
	CHECK_STR(t.cfg.teach.safe_poses[st.where.pose_index].name, "above_reader");

	CHECK_EQ_INT(h_run(h, bl_epson_place_on_stage(h, h_now()), 2000), 0);
	check_at(puck, slot, BL_SAMPLE_STAGE, BL_ROBOT_AT_SAFE);
	CHECK_EQ_INT(h_state(&t, "stage"), id);
	CHECK_EQ_INT(h_state(&t, "held"), 0);

	CHECK_EQ_INT(h_run(h, bl_epson_return_to_slot(h, puck, slot, h_now()), 2000), 0);
	check_at(0, 0, BL_SAMPLE_HOME, BL_ROBOT_AT_SAFE);
	CHECK_EQ_INT(h_state(&t, "stage"), 0);
	CHECK_EQ_INT(h_slot(&t, puck, slot), id);
	if (bl_epson_result(h)->rc)
		fprintf(stderr, "puck %d slot %d: %s\n", puck, slot, bl_epson_result(h)->text);
}

/* A second client is turned away while the driver holds the session. */
static void test_one_client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t.port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ_INT(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	const char login[] = "$Login," H_PASSWORD "\r\n";
	(void)!write(fd, login, sizeof(login) - 1);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[64];
	ssize_t n = -1;
	if (poll(&pfd, 1, 2000) == 1)
		n = read(fd, buf, sizeof(buf));
	CHECK(n <= 0); /* closed without a reply */
	close(fd);
	CHECK_EQ_INT(h_run(t.h, bl_epson_get_status(t.h, h_now()), 1000), 0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s BL-EPSON-SIM SOURCE-DIR\n", argv[0]);
		return 2;
	}
	if (h_start(&t, argv[1], argv[2], NULL))
		return 1;
	CHECK_EQ_INT(h_open_connect(&t), 0);
	struct bl_epson *h = t.h;
	struct bl_robot_state st;
	bl_epson_state(h, &st);
	CHECK(st.connected);
	CHECK(st.flags & BL_EPSON_FLAG(BL_EPSON_F_READY));
	CHECK(st.flags & BL_EPSON_FLAG(BL_EPSON_F_AUTO));
	CHECK_EQ_INT(st.where.place, BL_ROBOT_AT_UNKNOWN);
	CHECK_EQ_INT(bl_epson_connect(h, h_now()), -EISCONN);

	/* Location unknown until go_safe: planned motions refuse. */
	CHECK_EQ_INT(bl_epson_pick(h, 1, 1, h_now()), -EPERM);
	CHECK_EQ_INT(bl_epson_go_barcode_pose(h, h_now()), -EPERM);

	/* Through the class ops table. */
	const struct bl_robot_ops *ops = &bl_epson_robot_ops;
	CHECK_EQ_INT(h_run(h, ops->motors(h, true, h_now()), 1000), 0);
	CHECK_EQ_INT(h_run(h, ops->go_safe(h, h_now()), 2000), 0);
	ops->state(h, &st);
	CHECK_EQ_INT(st.where.place, BL_ROBOT_AT_SAFE);
	CHECK_STR(t.cfg.teach.safe_poses[st.where.pose_index].name, "home");
	struct bl_point p = {300, 0, -50, 0};
	CHECK_EQ_INT(ops->move_to(h, &p, h_now()), -ENOSYS);
	CHECK_EQ_INT(ops->pick(h, 3, 1, h_now()), -EINVAL);    /* no puck 3 */
	CHECK_EQ_INT(ops->pick(h, 1, 17, h_now()), -EINVAL);   /* no slot 17 */
	CHECK_EQ_INT(ops->place_on_stage(h, h_now()), -EPERM); /* nothing in the gripper */
	CHECK_EQ_INT(ops->return_to_slot(h, 1, 1, h_now()), -EPERM);
	/* One operation at a time. */
	CHECK_EQ_INT(ops->pick(h, 1, 1, h_now()), 0);
	CHECK_EQ_INT(ops->go_safe(h, h_now()), -EBUSY);
	CHECK_EQ_INT(h_run(h, 0, 2000), 0);
	CHECK_EQ_INT(ops->pick(h, 1, 2, h_now()), -EPERM); /* one sample out at a time */
	CHECK_EQ_INT(h_run(h, ops->return_to_slot(h, 1, 1, h_now()), 2000), 0);
	CHECK_EQ_INT(h_slot(&t, 1, 1), 101);

	int64_t t0 = h_now();
	for (size_t k = 0; k < t.cfg.teach.npucks; k++)
		for (size_t s = 1; s <= t.cfg.teach.pucks[k].nslots; s++)
			cycle(t.cfg.teach.pucks[k].id, (int)s, k == 0 && s == 1);
	fprintf(stderr, "32 cycles in %lld ms\n", (long long)(h_now() - t0));
	CHECK_EQ_INT(t.cfg.teach.npucks * t.cfg.teach.pucks[0].nslots, 32);
	for (int k = 1; k <= 2; k++)
		for (int s = 1; s <= 16; s++)
			CHECK_EQ_INT(h_slot(&t, k, s), k * 100 + s);
	CHECK_EQ_INT(h_state(&t, "dropped"), 0);
	CHECK_EQ_INT(h_state(&t, "sessions_dropped"), 0);

	test_one_client();
	bl_epson_state(h, &st);
	CHECK_EQ_INT(st.connects, 1);
	CHECK_EQ_INT(st.link_losses, 0);
	h_stop(&t);
	return CHECK_DONE();
}

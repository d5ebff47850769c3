/* test_fw_net_keys.c: CurveZMQ key files and allow-lists: generate, load, and precise errors. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "../check.h"
#include "proto/fw_keys.h"

static char dir[] = "/tmp/bl-fw-keys-XXXXXX";

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
	char p[512];
	path_of(p, sizeof(p), name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static void test_generate_load(void)
{
	char prefix[512], p[512], pub[41], pub2[41], sec[41], err[256];
	path_of(prefix, sizeof(prefix), "controller");
	CHECK_EQ_INT(bl_fw_keys_generate(prefix, pub, err, sizeof(err)), 0);
	CHECK_EQ_INT(strlen(pub), 40);

	struct stat st;
	path_of(p, sizeof(p), "controller.key");
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	path_of(p, sizeof(p), "controller.pub");
	CHECK_EQ_INT(stat(p, &st), 0);
	CHECK_EQ_INT(st.st_size, 41);
	char text[64] = "";
	FILE *f = fopen(p, "r");
	CHECK(fgets(text, sizeof(text), f) != NULL);
	fclose(f);
	CHECK_EQ_INT(strlen(text), 41);
	CHECK(text[40] == '\n');
	CHECK(strncmp(text, pub, 40) == 0);

	CHECK_EQ_INT(bl_fw_keys_load(prefix, pub2, sec, err, sizeof(err)), 0);
	CHECK_STR(pub2, pub);
	char derived[41];
	CHECK_EQ_INT(zmq_curve_public(derived, sec), 0);
	CHECK_STR(derived, pub);

	/* never overwritten */
	CHECK_EQ_INT(bl_fw_keys_generate(prefix, NULL, err, sizeof(err)), -EEXIST);
	CHECK(strstr(err, "controller.key") != NULL);

	/* a .pub that does not belong to the .key */
	char other[41], osec[41];
	zmq_curve_keypair(other, osec);
	unlink(p);
	char line[64];
	snprintf(line, sizeof(line), "# swapped by mistake\n%s\n", other);
	write_file("controller.pub", line);
	CHECK_EQ_INT(bl_fw_keys_load(prefix, pub2, sec, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "does not match") != NULL);
	/* without the .pub the secret key alone is enough */
	unlink(p);
	CHECK_EQ_INT(bl_fw_keys_load(prefix, pub2, sec, err, sizeof(err)), 0);
	CHECK_STR(pub2, pub);

	path_of(prefix, sizeof(prefix), "nobody");
	CHECK_EQ_INT(bl_fw_keys_load(prefix, pub2, sec, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "nobody.key") != NULL);
}

static void test_malformed(void)
{
	char p[512], z[41], err[256];
	/* 39 characters on line 2 */
	write_file("short.pub", "# agent 1\n=joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W\n");
	path_of(p, sizeof(p), "short.pub");
	CHECK_EQ_INT(bl_fw_keys_load_one(p, z, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:2: malformed key: 39 characters, expected 40", p);
	CHECK_STR(err, want);

	/* 40 characters, one not Z85 */
	write_file("badchar.pub", "\n\n=joeHa#HW<syz4rl+N@)B6{GR!>Qg,BxrK10I@W4\n");
	path_of(p, sizeof(p), "badchar.pub");
	CHECK_EQ_INT(bl_fw_keys_load_one(p, z, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "badchar.pub:3: malformed key: ',' at column 30") != NULL);

	/* text after the key that is not a comment */
	write_file("trail.pub", "=joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W4 agent\n");
	path_of(p, sizeof(p), "trail.pub");
	CHECK_EQ_INT(bl_fw_keys_load_one(p, z, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "trail.pub:1: text after the key") != NULL);

	/* a key with a comment after it is fine; '#' inside a key is a digit */
	write_file("ok.pub", "  =joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W4   # agent on bl733\n");
	path_of(p, sizeof(p), "ok.pub");
	CHECK_EQ_INT(bl_fw_keys_load_one(p, z, err, sizeof(err)), 0);
	CHECK_STR(z, "=joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W4");

	/* two keys in one key file */
	write_file("two.pub", "=joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W4\n"
			      "=joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W4\n");
	path_of(p, sizeof(p), "two.pub");
	CHECK_EQ_INT(bl_fw_keys_load_one(p, z, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "two.pub:2: more than 1 key") != NULL);

	write_file("empty.pub", "# nothing\n\n");
	path_of(p, sizeof(p), "empty.pub");
	CHECK_EQ_INT(bl_fw_keys_load_one(p, z, err, sizeof(err)), -ENODATA);
	CHECK(strstr(err, "empty.pub: no key") != NULL);

	uint8_t bin[32];
	CHECK(!bl_fw_key_decode("short", bin));
	CHECK(!bl_fw_key_decode(NULL, bin));
	CHECK(bl_fw_key_decode("=joeHa#HW<syz4rl+N@)B6{GR!>Qg{BxrK10I@W4", bin));
}

static void test_allowlist(void)
{
	char a[41], as[41], b[41], bs[41], c[41], cs[41], err[256], p[512];
	zmq_curve_keypair(a, as);
	zmq_curve_keypair(b, bs);
	zmq_curve_keypair(c, cs);
	uint8_t ka[32], kb[32], kc[32];
	bl_fw_key_decode(a, ka);
	bl_fw_key_decode(b, kb);
	bl_fw_key_decode(c, kc);

	/* a list file: comments, blank lines, trailing comments, a duplicate */
	char text[512];
	snprintf(text, sizeof(text),
		 "# agents allowed on the sim beamline\n\n%s\n  %s  # cli\n%s\n", a, b, a);
	write_file("agents.txt", text);
	struct bl_fw_allowlist al = {0};
	path_of(p, sizeof(p), "agents.txt");
	CHECK_EQ_INT(bl_fw_allowlist_load(&al, p, err, sizeof(err)), 0);
	CHECK_EQ_INT(al.n, 2);
	CHECK(bl_fw_allowlist_contains(&al, ka));
	CHECK(bl_fw_allowlist_contains(&al, kb));
	CHECK(!bl_fw_allowlist_contains(&al, kc));

	/* a broken list leaves the loaded one as it was */
	snprintf(text, sizeof(text), "%s\n%s\n%.30s\n", a, c, c);
	write_file("broken.txt", text);
	path_of(p, sizeof(p), "broken.txt");
	CHECK_EQ_INT(bl_fw_allowlist_load(&al, p, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "broken.txt:3: malformed key: 30 characters") != NULL);
	CHECK_EQ_INT(al.n, 2);
	CHECK(!bl_fw_allowlist_contains(&al, kc));

	/* a directory of .pub files; other files ignored */
	char sub[512];
	path_of(sub, sizeof(sub), "allowed");
	CHECK_EQ_INT(mkdir(sub, 0700), 0);
	snprintf(text, sizeof(text), "%s\n", b);
	write_file("allowed/cli.pub", text);
	snprintf(text, sizeof(text), "%s\n", c);
	write_file("allowed/robot-cell.pub", text);
	write_file("allowed/README", "not a key\n");
	CHECK_EQ_INT(bl_fw_allowlist_load(&al, sub, err, sizeof(err)), 0);
	CHECK_EQ_INT(al.n, 2);
	CHECK(!bl_fw_allowlist_contains(&al, ka));
	CHECK(bl_fw_allowlist_contains(&al, kb));
	CHECK(bl_fw_allowlist_contains(&al, kc));

	/* one malformed .pub in the directory names its file and line */
	write_file("allowed/zz-bad.pub", "# pasted from an email\n=joeHa#HW<syz4rl+N@)B6{G\n");
	CHECK_EQ_INT(bl_fw_allowlist_load(&al, sub, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "allowed/zz-bad.pub:2: malformed key: 24 characters") != NULL);
	fprintf(stderr, "error as reported: %s\n", err);

	path_of(p, sizeof(p), "missing");
	CHECK_EQ_INT(bl_fw_allowlist_load(&al, p, err, sizeof(err)), -ENOENT);

	struct bl_fw_allowlist copy;
	CHECK_EQ_INT(bl_fw_allowlist_copy(&copy, &al), 0);
	CHECK_EQ_INT(copy.n, 2);
	CHECK_EQ_INT(bl_fw_allowlist_add(&copy, "bad"), -EINVAL);
	CHECK_EQ_INT(bl_fw_allowlist_add(&copy, a), 0);
	CHECK_EQ_INT(copy.n, 3);
	bl_fw_allowlist_free(&copy);
	bl_fw_allowlist_free(&al);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_generate_load();
	test_malformed();
	test_allowlist();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}

/* fw_site.c: a beamloop-fw run folder (keys, allow-list, inventory) and the controller process. */
#include "fw_site.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "barcode_proto.h"

int bl_fw_site_create(struct bl_fw_site *s, const char *prefix, const char *hwdb, int puck,
		      int nslots, char *err, size_t cap)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/%.40s-XXXXXX", prefix);
	if (!mkdtemp(s->dir)) {
		snprintf(err, cap, "mkdtemp %s: %s", s->dir, strerror(errno));
		return -errno;
	}
	snprintf(s->hwdb, sizeof(s->hwdb), "%s", hwdb);
	snprintf(s->inv, sizeof(s->inv), "%s/inventory.json", s->dir);
	snprintf(s->journal, sizeof(s->journal), "%s/journal.sqlite", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/fw", s->dir);
	snprintf(s->allow, sizeof(s->allow), "%s/allow", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/fw.log", s->dir);
	char agent[96];
	snprintf(agent, sizeof(agent), "%s/agent", s->dir);
	if (bl_fw_keys_generate(s->key, s->fw_pub, err, cap) ||
	    bl_fw_keys_generate(agent, s->ag_pub, err, cap) ||
	    bl_fw_keys_load(agent, NULL, s->ag_sec, err, cap))
		return -EIO;
	FILE *f = fopen(s->allow, "w");
	if (!f) {
		snprintf(err, cap, "%s: %s", s->allow, strerror(errno));
		return -errno;
	}
	fprintf(f, "# the agent\n%s\n", s->ag_pub);
	fclose(f);
	if (!(f = fopen(s->inv, "w"))) {
		snprintf(err, cap, "%s: %s", s->inv, strerror(errno));
		return -errno;
	}
	fprintf(f, "[\n");
	for (int i = 1; i <= nslots; i++) {
		char code[16];
		bl_bc_sim_code(puck, i, code);
		fprintf(f, "  {\"puck\": %d, \"slot\": %d, \"barcode\": \"%s\"}%s\n", puck, i, code,
			i < nslots ? "," : "");
	}
	fprintf(f, "]\n");
	fclose(f);
	return 0;
}

int bl_fw_site_inventory(struct bl_fw_site *s, const int *pucks, const int *nslots, int n,
			 char *err, size_t cap)
{
	FILE *f = fopen(s->inv, "w");
	if (!f) {
		snprintf(err, cap, "%s: %s", s->inv, strerror(errno));
		return -errno;
	}
	fprintf(f, "[\n");
	for (int p = 0; p < n; p++)
		for (int i = 1; i <= nslots[p]; i++) {
			char code[16];
			bl_bc_sim_code(pucks[p], i, code);
			fprintf(f, "  {\"puck\": %d, \"slot\": %d, \"barcode\": \"%s\"}%s\n",
				pucks[p], i, code, p == n - 1 && i == nslots[p] ? "" : ",");
		}
	fprintf(f, "]\n");
	return fclose(f) ? -EIO : 0;
}

pid_t bl_fw_site_start(const struct bl_fw_site *s, const char *fw_path, const char *const *extra,
		       char *ready, size_t cap)
{
	int p[2];
	if (pipe(p))
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the caller */
		dup2(p[1], 1);
		close(p[0]);
		FILE *l = fopen(s->log, "a");
		if (l)
			dup2(fileno(l), 2);
		const char *argv[48] = {fw_path, "--hwdb",    s->hwdb,	  "--inventory",
					s->inv,	 "--journal", s->journal, "--key",
					s->key,	 "--allow",   s->allow};
		int n = 11;
		for (int i = 0; extra && extra[i] && n < 47; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execv(fw_path, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	char line[512] = "";
	bool ok = f && fgets(line, sizeof(line), f) && !strncmp(line, "ready ", 6);
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = 0;
	snprintf(ready, cap, "%s", line);
	if (!ok) {
		bl_fw_site_stop(pid, SIGKILL);
		return -EIO;
	}
	return pid;
}

void bl_fw_site_stop(pid_t pid, int sig)
{
	if (pid <= 0)
		return;
	kill(pid, sig);
	waitpid(pid, NULL, 0);
}

int bl_fw_site_remove(const struct bl_fw_site *s)
{
	char rm[96];
	snprintf(rm, sizeof(rm), "rm -rf %s", s->dir);
	return system(rm) == 0 ? 0 : -EIO;
}

/* agent_store.c: the agent's storage side: opens the series' NeXus file at its first frame
 * (named from the frame's tag), appends joined frames, flushes, closes and indexes it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent_int.h"

int agent_make_dirs(const char *path)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -errno : 0;
}

/* The file's label: the barcode, else the print label, else "untagged"; only [A-Za-z0-9._-]. */
static void label_of(const struct bl_edge *e, char *out, size_t cap)
{
	const char *l = e && e->has_sample && e->barcode[0]	 ? e->barcode
			: e && e->has_print && e->print.label[0] ? e->print.label
								 : "untagged";
	size_t n = 0;
	for (; *l && n + 1 < cap; l++)
		out[n++] = (*l >= 'a' && *l <= 'z') || (*l >= 'A' && *l <= 'Z') ||
				   (*l >= '0' && *l <= '9') || *l == '.' || *l == '-' || *l == '_'
			       ? *l
			       : '_';
	out[n] = 0;
	if (out[0] == '.')
		out[0] = '_';
}

/* Static metadata for this series' frames: the sensor's geometry binned to the frame. */
static struct bl_nx_static series_static(const struct bl_agent *a)
{
	const struct agent_series *s = &a->ser;
	struct bl_nx_static st = a->cfg.geom;
	double bx = st.width > 0 ? (double)st.width / s->width : 1;
	double by = st.height > 0 ? (double)st.height / s->height : 1;
	st.x_pixel_m *= bx;
	st.y_pixel_m *= by;
	st.beam_x_px /= bx;
	st.beam_y_px /= by;
	st.width = s->width;
	st.height = s->height;
	st.type = s->type;
	st.series = s->series;
	st.count_time_s = s->count_time;
	st.frame_time_s = s->frame_time;
	return st;
}

static int open_file(struct bl_agent *a, const struct bl_edge *first)
{
	struct agent_series *s = &a->ser;
	char day[16], label[80], dir[PATH_MAX], err[512];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	label_of(first, label, sizeof(label));
	int rc = (size_t)snprintf(dir, sizeof(dir), "%s/%s", a->out_dir, day) < sizeof(dir)
		     ? agent_make_dirs(dir)
		     : -ENAMETOOLONG;
	if (rc) {
		agent_log(a,
			  "series %llu: cannot make %s: %s; frames of this series are not stored",
			  (unsigned long long)s->series, dir, strerror(-rc));
		return rc;
	}
	struct bl_nx_static st = series_static(a);
	snprintf(st.title, sizeof(st.title), "%s series %llu", label,
		 (unsigned long long)s->series);
	for (int k = 1; k < 100; k++) {
		char suffix[16] = "";
		if (k > 1)
			snprintf(suffix, sizeof(suffix), "_%d", k);
		if ((size_t)snprintf(s->path, sizeof(s->path), "%s/%s_s%llu%s.nxs", dir, label,
				     (unsigned long long)s->series, suffix) >= sizeof(s->path)) {
			snprintf(err, sizeof(err), "%.400s...: path too long", dir);
			rc = -ENAMETOOLONG;
			break;
		}
		rc = bl_nx_create(&s->nx, s->path, &st, first, err, sizeof(err));
		if (rc != -EEXIST)
			break;
	}
	if (rc) {
		agent_log(a, "series %llu: %s; frames of this series are not stored",
			  (unsigned long long)s->series, err);
		return rc;
	}
	a->c.files_opened++;
	s->st = st;
	agent_fwd_file(a, s->path);
	snprintf(a->last_file, sizeof(a->last_file), "%s", s->path);
	s->last_flush_us = agent_now_us();
	if (a->index && (bl_agent_index_run_begin(a->index, s->series, first, &s->run_id) ||
			 bl_agent_index_file_begin(a->index, s->run_id, s->path, &s->file_id)))
		agent_log(a, "index: %s",
			  bl_agent_index_error(a->index)); /* the file still counts */
	agent_log(a, "series %llu: writing %s", (unsigned long long)s->series, s->path);
	return 0;
}

static struct bl_nx_totals totals(const struct bl_agent *a)
{
	const struct agent_series *s = &a->ser;
	const struct bl_join_counters *j = bl_join_counters(a->join);
	return (struct bl_nx_totals){
	    .missing = s->missing,
	    .rejected = bl_dstream_counters(a->stream)->rejected - s->rejected0,
	    .edge_missing = j->edge_missing - s->emiss0,
	    .edge_cut = j->edge_cut - s->ecut0,
	};
}

static void index_file(struct bl_agent *a, const char *status)
{
	struct agent_series *s = &a->ser;
	if (!a->index || !s->file_id)
		return;
	struct bl_nx_totals t = totals(a);
	struct bl_index_file_counts c = {s->nx ? bl_nx_frames(s->nx) : 0,
					 s->nx ? bl_nx_untagged(s->nx) : 0, t.missing, t.rejected};
	if (bl_agent_index_file_update(a->index, s->file_id, status, &c))
		agent_log(a, "index: %s", bl_agent_index_error(a->index));
}

/* A write failed: keep what is in the file valid, stop storing this series. */
static void fail_series(struct bl_agent *a, int rc)
{
	struct agent_series *s = &a->ser;
	agent_log(a,
		  "series %llu: %s: %s; the file keeps %llu frames, the rest of the series is "
		  "not stored",
		  (unsigned long long)s->series, s->path, bl_nx_error(s->nx),
		  (unsigned long long)bl_nx_frames(s->nx));
	if (rc == -ENOSPC || rc == -EIO || rc == -EFBIG)
		agent_space_release(a); /* room for the close's metadata */
	agent_store_close(a, "failed");
	s->refused = true;
	a->c.series_refused++;
}

int agent_emit(void *ctx, const struct bl_join_frame *f, const struct bl_edge *e)
{
	struct bl_agent *a = ctx;
	struct agent_series *s = &a->ser;
	if (s->refused || f->series != s->series) {
		a->c.frames_refused++;
		return 0;
	}
	if (!s->nx) {
		int rc = open_file(a, e);
		if (rc) {
			s->refused = true;
			a->c.series_refused++;
			a->c.frames_refused++;
			return rc;
		}
	}
	struct bl_nx_frame nf = {f->frame, f->chunk, f->chunk_bytes, f->start_ns, e};
	int rc = bl_nx_append(s->nx, &nf);
	if (rc) {
		a->c.frames_refused++;
		fail_series(a, rc);
		return rc;
	}
	a->c.frames_written++;
	agent_fwd_frame(a, f, e, bl_nx_frames(s->nx) - 1);
	agent_store_flush(a, false);
	return 0;
}

void agent_store_flush(struct bl_agent *a, bool force)
{
	struct agent_series *s = &a->ser;
	uint64_t now = agent_now_us();
	if (!s->nx || (!force && now - s->last_flush_us < 200000))
		return;
	s->last_flush_us = now;
	struct bl_nx_totals t = totals(a);
	int rc = bl_nx_flush(s->nx, &t);
	if (rc)
		fail_series(a, rc);
}

void agent_store_close(struct bl_agent *a, const char *status)
{
	struct agent_series *s = &a->ser;
	if (s->nx) {
		struct bl_nx_totals t = totals(a);
		uint64_t n = bl_nx_frames(s->nx);
		index_file(a, !strcmp(status, "failed") ? "failed" : "closed");
		int rc = bl_nx_close(s->nx, &t, status);
		s->nx = NULL;
		if (s->fwd_file)
			agent_results_file_closed(a, s->fwd_file, n);
		if (rc) {
			a->c.files_failed++;
			agent_log(a, "series %llu: closing %s: %s", (unsigned long long)s->series,
				  s->path, strerror(-rc));
		} else {
			a->c.files_closed++;
		}
		agent_log(a, "series %llu: %s closed (%s): %llu frames, %llu missing",
			  (unsigned long long)s->series, s->path, status, (unsigned long long)n,
			  (unsigned long long)t.missing);
	}
	if (a->index && s->run_id && bl_agent_index_run_end(a->index, s->run_id, status))
		agent_log(a, "index: %s", bl_agent_index_error(a->index));
	s->run_id = 0;
	s->file_id = 0;
}

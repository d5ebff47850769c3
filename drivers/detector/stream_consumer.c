/* stream_consumer.c: checks and decodes Dectris stream v1 messages: htypes, JSON, shape/type/size
 * consistency, md5, frame numbering, series boundaries; rejects a bad message, never crashes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bl_dstream.h"
#include "stream_int.h"

int bl_dstream_new(struct bl_dstream **out)
{
	struct bl_dstream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->scratch = malloc(BL_DCODEC_SCRATCH);
	if (!s->scratch) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void bl_dstream_free(struct bl_dstream *s)
{
	if (!s)
		return;
	bl_dstream_zmq_close(s);
	free(s->own);
	free(s->scratch);
	free(s);
}

void bl_dstream_set_buffer(struct bl_dstream *s, void *buf, size_t cap)
{
	s->user = buf;
	s->user_cap = cap;
}

void bl_dstream_set_decode(struct bl_dstream *s, enum bl_ds_decode mode)
{
	s->decode = mode;
}

const struct bl_dstream_counters *bl_dstream_counters(const struct bl_dstream *s)
{
	return &s->c;
}

/* Fills EV as a rejection; bumps the total and the reason's counter. */
__attribute__((format(printf, 5, 6))) static int reject(struct bl_dstream *s,
							struct bl_dstream_event *ev,
							uint64_t *counter, int rc, const char *fmt,
							...)
{
	ev->kind = BL_DS_REJECT;
	ev->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->error, sizeof(ev->error), fmt, ap);
	va_end(ap);
	s->c.rejected++;
	(*counter)++;
	return 1;
}

static cJSON *parse(const struct bl_dpart *p)
{
	return p->size ? cJSON_ParseWithLength(p->data, p->size) : NULL;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A non-negative integer field (JSON numbers are doubles: exact up to 2^53). */
static bool get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != floor(v->valuedouble))
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *htype_of(const cJSON *o)
{
	const char *h = get_str(o, "htype");
	return h ? h : "(none)";
}

/* Ends the open series (END event fields in EV when not NULL). */
static void close_series(struct bl_dstream *s, struct bl_dstream_event *ev)
{
	uint64_t tail =
	    s->ser.expected > s->ser.next_frame ? s->ser.expected - s->ser.next_frame : 0;
	uint64_t missing = s->ser.missing + tail;
	bool complete =
	    s->ser.expected ? s->ser.delivered == s->ser.expected && !missing : !missing;
	s->c.missing += tail;
	if (!complete)
		s->c.incomplete++;
	if (ev) {
		ev->kind = BL_DS_END;
		ev->series = s->ser.series;
		ev->frames = s->ser.delivered;
		ev->missing = missing;
		ev->expected = s->ser.expected;
		ev->complete = complete;
	}
	s->ser.open = false;
}

/* Makes sure BYTES fit in the decode buffer, allocating only when the series needs more than
 * the consumer holds. NULL when it cannot (caller buffer too small, or no memory). */
static void *series_buffer(struct bl_dstream *s, size_t bytes)
{
	if (s->user)
		return bytes <= s->user_cap ? s->user : NULL;
	if (bytes > s->own_cap) {
		void *p = realloc(s->own, bytes);
		if (!p)
			return NULL;
		s->own = p;
		s->own_cap = bytes;
	}
	return s->own;
}

static int on_header(struct bl_dstream *s, const struct bl_dpart *parts, size_t n, const cJSON *h,
		     struct bl_dstream_event *ev)
{
	uint64_t series;
	const char *detail = get_str(h, "header_detail");
	if (!get_u64(h, "series", &series) || !detail)
		return reject(s, ev, &s->c.bad_json, -EBADMSG,
			      "dheader-1.0 without series or header_detail");
	bool none = !strcmp(detail, "none"), all = !strcmp(detail, "all");
	if (!none && !all && strcmp(detail, "basic"))
		return reject(s, ev, &s->c.bad_json, -EBADMSG, "dheader-1.0: header_detail '%s'",
			      detail);
	if (none ? n != 1 : all ? n < 2 : n != 2)
		return reject(s, ev, &s->c.bad_htype, -EPROTO, "dheader-1.0 (%s) in %zu parts",
			      detail, n);
	cJSON *cfg = NULL;
	if (!none) {
		cfg = parse(&parts[1]);
		if (!cJSON_IsObject(cfg)) {
			cJSON_Delete(cfg);
			return reject(s, ev, &s->c.bad_json, -EBADMSG,
				      "dheader-1.0: detector config part is not a JSON object");
		}
	}
	if (s->ser.open)
		close_series(s, NULL); /* its end never came */
	s->ser = (struct dseries){0};
	s->ser.open = true;
	s->ser.series = series;
	s->c.series++;
	ev->kind = BL_DS_HEADER;
	ev->series = series;
	snprintf(ev->detail, sizeof(ev->detail), "%s", detail);
	if (cfg) {
		uint64_t w = 0, h2 = 0;
		ev->has_config = true;
		get_u64(cfg, "nimages", &ev->nimages);
		get_u64(cfg, "ntrigger", &ev->ntrigger);
		ev->frame_time = get_num(cfg, "frame_time");
		ev->count_time = get_num(cfg, "count_time");
		const char *tm = get_str(cfg, "trigger_mode");
		snprintf(ev->trigger_mode, sizeof(ev->trigger_mode), "%s", tm ? tm : "");
		if (get_u64(cfg, "x_pixels_in_detector", &w) &&
		    get_u64(cfg, "y_pixels_in_detector", &h2) && w && h2 &&
		    w * h2 <= BL_DSTREAM_MAX_PIXELS) {
			ev->config_width = (int)w;
			ev->config_height = (int)h2;
		}
		s->ser.nimages = ev->nimages;
		s->ser.expected = ev->nimages && ev->ntrigger ? ev->nimages * ev->ntrigger : 0;
		s->ser.frame_ns = ev->frame_time > 0 ? (uint64_t)(ev->frame_time * 1e9 + 0.5) : 0;
		s->ser.cfg_w = ev->config_width;
		s->ser.cfg_h = ev->config_height;
		if (s->ser.cfg_w) /* the series' buffer, at its start */
			series_buffer(s, (size_t)s->ser.cfg_w * (size_t)s->ser.cfg_h * 4);
		cJSON_Delete(cfg);
	}
	return 1;
}

static int on_end(struct bl_dstream *s, size_t n, const cJSON *h, struct bl_dstream_event *ev)
{
	uint64_t series;
	if (n != 1)
		return reject(s, ev, &s->c.bad_htype, -EPROTO, "dseries_end-1.0 in %zu parts", n);
	if (!get_u64(h, "series", &series))
		return reject(s, ev, &s->c.bad_json, -EBADMSG, "dseries_end-1.0 without series");
	if (!s->ser.open || series != s->ser.series)
		return reject(s, ev, &s->c.unannounced, -ESTALE,
			      "dseries_end-1.0 of series %" PRIu64 " that is not open", series);
	close_series(s, ev);
	s->c.ended++;
	return 1;
}

/* The three JSON parts of an image, checked and parsed. */
struct image_hdr {
	uint64_t series, frame, size, start, stop, real;
	const char *hash;
	int w, h;
	enum bl_dtype type;
	enum bl_denc enc;
};

static int image_parts(struct bl_dstream *s, const struct bl_dpart *parts, const cJSON *h,
		       struct image_hdr *im, struct bl_dstream_event *ev)
{
	if (!get_u64(h, "series", &im->series) || !get_u64(h, "frame", &im->frame))
		return reject(s, ev, &s->c.bad_json, -EBADMSG, "dimage-1.0 without series/frame");
	im->hash = get_str(h, "hash");
	cJSON *d = parse(&parts[1]), *c = parse(&parts[3]);
	int rc = 0;
	uint64_t w = 0, hh = 0;
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(d, "shape");
	const char *type = get_str(d, "type"), *enc = get_str(d, "encoding");
	if (!d || !c)
		rc = reject(s, ev, &s->c.bad_json, -EBADMSG,
			    "frame %" PRIu64 ": %s part is not JSON", im->frame,
			    d ? "dconfig" : "dimage_d");
	else if (strcmp(htype_of(d), "dimage_d-1.0") || strcmp(htype_of(c), "dconfig-1.0"))
		rc = reject(s, ev, &s->c.bad_htype, -EPROTO,
			    "frame %" PRIu64 ": parts 2 and 4 are '%s' and '%s'", im->frame,
			    htype_of(d), htype_of(c));
	else if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2 || !type || !enc ||
		 !get_u64(d, "size", &im->size))
		rc = reject(s, ev, &s->c.bad_json, -EBADMSG,
			    "frame %" PRIu64 ": dimage_d-1.0 lacks shape/type/encoding/size",
			    im->frame);
	else if (!get_u64(c, "start_time", &im->start) || !get_u64(c, "stop_time", &im->stop) ||
		 !get_u64(c, "real_time", &im->real))
		rc = reject(s, ev, &s->c.bad_json, -EBADMSG,
			    "frame %" PRIu64 ": dconfig-1.0 lacks start/stop/real_time", im->frame);
	if (rc)
		goto out;
	const cJSON *sw = cJSON_GetArrayItem(shape, 0), *sh = cJSON_GetArrayItem(shape, 1);
	bool shape_ok = cJSON_IsNumber(sw) && cJSON_IsNumber(sh) && sw->valuedouble >= 1 &&
			sh->valuedouble >= 1 && sw->valuedouble <= BL_DSTREAM_MAX_PIXELS &&
			sh->valuedouble <= BL_DSTREAM_MAX_PIXELS;
	if (shape_ok) {
		w = (uint64_t)sw->valuedouble;
		hh = (uint64_t)sh->valuedouble;
		shape_ok = w * hh <= BL_DSTREAM_MAX_PIXELS;
	}
	if (!shape_ok)
		rc = reject(s, ev, &s->c.bad_shape, -EINVAL, "frame %" PRIu64 ": bad shape",
			    im->frame);
	else if (bl_dtype_parse(type, &im->type) || bl_denc_parse(enc, &im->enc))
		rc = reject(s, ev, &s->c.bad_shape, -EINVAL,
			    "frame %" PRIu64 ": type '%s' / encoding '%s' not supported", im->frame,
			    type, enc);
	else if ((im->enc == BL_DENC_BS16_LZ4 && im->type != BL_DTYPE_UINT16) ||
		 (im->enc == BL_DENC_BS32_LZ4 && im->type != BL_DTYPE_UINT32))
		rc = reject(s, ev, &s->c.bad_shape, -EINVAL,
			    "frame %" PRIu64 ": encoding '%s' does not fit type '%s'", im->frame,
			    enc, type);
	im->w = (int)w;
	im->h = (int)hh;
out:
	cJSON_Delete(d);
	cJSON_Delete(c);
	return rc;
}

static int on_image(struct bl_dstream *s, const struct bl_dpart *parts, size_t n, const cJSON *h,
		    struct bl_dstream_event *ev)
{
	if (n != 4)
		return reject(s, ev, &s->c.bad_htype, -EPROTO, "dimage-1.0 in %zu parts", n);
	struct image_hdr im = {0};
	if (image_parts(s, parts, h, &im, ev))
		return 1;
	const struct bl_dpart *data = &parts[2];
	size_t elem = (size_t)im.type, bytes = (size_t)im.w * (size_t)im.h * elem;
	if (!s->ser.open || im.series != s->ser.series)
		return reject(s, ev, &s->c.stale, -ESTALE,
			      "frame %" PRIu64 " of series %" PRIu64 " while %s %" PRIu64, im.frame,
			      im.series,
			      s->ser.open ? "series open is" : "no series open; last was",
			      s->ser.series);
	if (im.frame < s->ser.next_frame)
		return reject(s, ev, &s->c.duplicates, -EALREADY,
			      "frame %" PRIu64 " of series %" PRIu64 " again (next is %" PRIu64 ")",
			      im.frame, im.series, s->ser.next_frame);
	if (data->size < im.size)
		return reject(s, ev, &s->c.truncated, -ENODATA,
			      "frame %" PRIu64 ": data part has %zu of %" PRIu64 " bytes", im.frame,
			      data->size, im.size);
	if (data->size > im.size || (im.enc == BL_DENC_RAW && im.size != bytes))
		return reject(
		    s, ev, &s->c.bad_size, -EMSGSIZE,
		    "frame %" PRIu64 ": data part %zu bytes, size %" PRIu64 ", %dx%d %s needs %zu",
		    im.frame, data->size, im.size, im.w, im.h, bl_dtype_name(im.type), bytes);
	if ((s->ser.shape_set &&
	     (im.w != s->ser.w || im.h != s->ser.h || im.type != s->ser.type)) ||
	    (s->ser.cfg_w && (im.w != s->ser.cfg_w || im.h != s->ser.cfg_h)))
		return reject(s, ev, &s->c.bad_shape, -EINVAL,
			      "frame %" PRIu64 ": %dx%d %s in a series of %dx%d", im.frame, im.w,
			      im.h, bl_dtype_name(im.type),
			      s->ser.shape_set ? s->ser.w : s->ser.cfg_w,
			      s->ser.shape_set ? s->ser.h : s->ser.cfg_h);
	if (im.hash && *im.hash) {
		char md5[33];
		bl_md5_hex(data->data, data->size, md5);
		if (strcasecmp(md5, im.hash))
			return reject(s, ev, &s->c.bad_hash, -EILSEQ,
				      "frame %" PRIu64 ": md5 %s, hash says %.40s", im.frame, md5,
				      im.hash);
		ev->hash_checked = true;
	}
	/* What to decode (see bl_dstream_set_decode); raw needs none, its size is checked. */
	bool bs = im.enc == BL_DENC_BS16_LZ4 || im.enc == BL_DENC_BS32_LZ4;
	const void *pixels = NULL;
	int rc = 0;
	if (s->decode != BL_DS_DECODE_FULL && im.enc == BL_DENC_RAW) {
		pixels = data->data;
	} else if (s->decode == BL_DS_DECODE_NONE && ev->hash_checked && bs) {
		/* the md5 matched: exactly the detector's bytes */
	} else if (s->decode != BL_DS_DECODE_FULL && bs) {
		rc = bl_dcodec_decode(im.enc, data->data, data->size, NULL, bytes / elem, elem,
				      s->scratch, BL_DCODEC_SCRATCH);
	} else {
		void *buf = series_buffer(s, bytes);
		if (!buf)
			return reject(s, ev, &s->c.bad_shape, -ENOBUFS,
				      "frame %" PRIu64 ": %zu bytes do not fit the buffer",
				      im.frame, bytes);
		rc = bl_dcodec_decode(im.enc, data->data, data->size, buf, bytes / elem, elem,
				      s->scratch, BL_DCODEC_SCRATCH);
		pixels = buf;
	}
	if (rc == -ENODATA)
		return reject(s, ev, &s->c.truncated, rc, "frame %" PRIu64 ": %s data ends early",
			      im.frame, bl_denc_name(im.enc));
	if (rc)
		return reject(s, ev, &s->c.bad_data, -EBADMSG,
			      "frame %" PRIu64 ": '%s' data does not decode (%s)", im.frame,
			      bl_denc_name(im.enc), strerror(-rc));
	/* accepted */
	s->ser.shape_set = true;
	s->ser.w = im.w;
	s->ser.h = im.h;
	s->ser.type = im.type;
	ev->missing_before = im.frame - s->ser.next_frame;
	if (ev->missing_before) {
		s->c.gaps++;
		s->c.missing += ev->missing_before;
		s->ser.missing += ev->missing_before;
	}
	/* Within one trigger's burst frames start frame_time apart (timestamps come from the
	 * detector's clock, so this does not depend on when the message arrived). */
	if (s->ser.frame_ns && s->ser.nimages && s->ser.have_prev &&
	    im.frame / s->ser.nimages == s->ser.prev_frame / s->ser.nimages) {
		uint64_t due = s->ser.prev_start + (im.frame - s->ser.prev_frame) * s->ser.frame_ns;
		uint64_t tol = s->ser.frame_ns / 2 > 1000000 ? s->ser.frame_ns / 2 : 1000000;
		if (im.start > due + tol) {
			ev->late = true;
			s->c.late++;
		}
	}
	s->ser.have_prev = true;
	s->ser.prev_frame = im.frame;
	s->ser.prev_start = im.start;
	s->ser.next_frame = im.frame + 1;
	s->ser.delivered++;
	s->c.frames++;
	ev->kind = BL_DS_FRAME;
	ev->series = im.series;
	ev->frame = im.frame;
	ev->width = im.w;
	ev->height = im.h;
	ev->type = im.type;
	ev->encoding = im.enc;
	ev->pixels = pixels;
	ev->pixel_bytes = bytes;
	ev->encoded = data->data;
	ev->encoded_bytes = data->size;
	ev->start_ns = im.start;
	ev->stop_ns = im.stop;
	ev->real_ns = im.real;
	return 1;
}

int bl_dstream_feed(struct bl_dstream *s, const struct bl_dpart *parts, size_t n,
		    struct bl_dstream_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!n)
		return reject(s, ev, &s->c.bad_htype, -EPROTO, "empty message");
	if (n > BL_DSTREAM_MAX_PARTS)
		return reject(s, ev, &s->c.bad_htype, -EPROTO, "message of %zu parts", n);
	cJSON *h = parse(&parts[0]);
	int rc;
	if (!cJSON_IsObject(h))
		rc = reject(s, ev, &s->c.bad_json, -EBADMSG, "first part is not a JSON object");
	else if (!strcmp(htype_of(h), "dheader-1.0"))
		rc = on_header(s, parts, n, h, ev);
	else if (!strcmp(htype_of(h), "dimage-1.0"))
		rc = on_image(s, parts, n, h, ev);
	else if (!strcmp(htype_of(h), "dseries_end-1.0"))
		rc = on_end(s, n, h, ev);
	else
		rc = reject(s, ev, &s->c.bad_htype, -EPROTO, "unknown htype '%.40s'", htype_of(h));
	cJSON_Delete(h);
	return rc;
}

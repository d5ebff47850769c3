/* det_sim_http.c: bl-detector-sim's SIMPLON REST API (detector config/command/status, stream
 * config) served by libmicrohttpd on the simulator's own event loop. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_sim.h"

#define BODY_MAX 4096

struct body {
	size_t len;
	bool overflow;
	char buf[BODY_MAX + 1];
};

enum kind { NUM, UINT, STR };

/* One configuration parameter: its JSON description and where it lives. */
struct param {
	const char *name;
	enum kind kind;
	bool writable;
	const char *unit;
	double min, max;
	const char *allowed[4];
};

static const struct param det_params[] = {
    {"count_time", NUM, true, "s", 1e-6, 3600, {0}},
    {"frame_time", NUM, true, "s", 0, 3600, {0}}, /* min from the model's max frame rate */
    {"nimages", UINT, true, "", 1, 1000000, {0}},
    {"ntrigger", UINT, true, "", 1, 1000000, {0}},
    {"trigger_mode", STR, true, "", 0, 0, {"ints", "exts"}},
    {"compression", STR, true, "", 0, 0, {"none", "lz4", "bslz4"}},
    {"bit_depth_image", UINT, true, "", 16, 32, {0}},
    {"x_pixels_in_detector", UINT, false, "", 0, 0, {0}},
    {"y_pixels_in_detector", UINT, false, "", 0, 0, {0}},
    {"x_pixel_size", NUM, false, "m", 0, 0, {0}},
    {"beam_center_x", NUM, false, "pixel", 0, 0, {0}},
    {"beam_center_y", NUM, false, "pixel", 0, 0, {0}},
    {"detector_distance", NUM, false, "m", 0, 0, {0}},
    {"wavelength", NUM, false, "A", 0, 0, {0}},
    {"description", STR, false, "", 0, 0, {0}},
};

static const struct param stream_params[] = {
    {"mode", STR, true, "", 0, 0, {"enabled", "disabled"}},
    {"header_detail", STR, true, "", 0, 0, {"all", "basic", "none"}},
};

static const struct param *find(const struct param *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

static double num_value(const struct det_sim *s, const char *name)
{
	const struct bl_det_geom *g = &s->geom;
	if (!strcmp(name, "count_time"))
		return s->cfg.count_time;
	if (!strcmp(name, "frame_time"))
		return s->cfg.frame_time;
	if (!strcmp(name, "nimages"))
		return (double)s->cfg.nimages;
	if (!strcmp(name, "ntrigger"))
		return (double)s->cfg.ntrigger;
	if (!strcmp(name, "bit_depth_image"))
		return (double)s->cfg.type * 8;
	if (!strcmp(name, "x_pixels_in_detector"))
		return g->width;
	if (!strcmp(name, "y_pixels_in_detector"))
		return g->height;
	if (!strcmp(name, "x_pixel_size"))
		return g->pixel_mm * 1e-3;
	if (!strcmp(name, "beam_center_x"))
		return g->beam_x;
	if (!strcmp(name, "beam_center_y"))
		return g->beam_y;
	if (!strcmp(name, "detector_distance"))
		return g->distance_mm * 1e-3;
	return g->wavelength_nm * 10.0; /* wavelength */
}

/* The string parameter NAME and the size of its storage in *CAP. */
static char *str_value(struct det_sim *s, const char *name, size_t *cap)
{
	struct det_cfg *c = &s->cfg;
	if (!strcmp(name, "trigger_mode"))
		return *cap = sizeof(c->trigger_mode), c->trigger_mode;
	if (!strcmp(name, "compression"))
		return *cap = sizeof(c->compression), c->compression;
	if (!strcmp(name, "mode"))
		return *cap = sizeof(c->stream_mode), c->stream_mode;
	if (!strcmp(name, "header_detail"))
		return *cap = sizeof(c->header_detail), c->header_detail;
	return *cap = sizeof(s->description), s->description;
}

static cJSON *describe(struct det_sim *s, const struct param *p)
{
	cJSON *o = cJSON_CreateObject();
	size_t cap;
	if (p->kind == STR)
		cJSON_AddStringToObject(o, "value", str_value(s, p->name, &cap));
	else
		cJSON_AddNumberToObject(o, "value", num_value(s, p->name));
	cJSON_AddStringToObject(o, "value_type",
				p->kind == STR	  ? "string"
				: p->kind == UINT ? "uint"
						  : "float");
	cJSON_AddStringToObject(o, "access_mode", p->writable ? "rw" : "r");
	if (*p->unit)
		cJSON_AddStringToObject(o, "unit", p->unit);
	if (p->writable && p->kind != STR) {
		double min = p->min;
		if (!strcmp(p->name, "frame_time"))
			min = 1.0 / s->max_rate_hz;
		cJSON_AddNumberToObject(o, "min", min);
		cJSON_AddNumberToObject(o, "max", p->max);
	}
	if (p->allowed[0]) {
		cJSON *a = cJSON_AddArrayToObject(o, "allowed_values");
		for (int i = 0; i < 4 && p->allowed[i]; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(p->allowed[i]));
	}
	return o;
}

/* Applies PUT {"value": V} to P. Returns the HTTP status; CHANGED gets the names changed. */
static int put_param(struct det_sim *s, const struct param *p, const cJSON *v, cJSON *changed,
		     char *err, size_t cap)
{
	if (!p->writable)
		return snprintf(err, cap, "%s is read-only", p->name), 400;
	if (s->state == DET_READY || s->state == DET_ACQUIRE)
		return snprintf(err, cap, "detector is armed: disarm to change %s", p->name), 409;
	if (p->kind == STR) {
		if (!cJSON_IsString(v))
			return snprintf(err, cap, "%s takes a string", p->name), 400;
		for (int i = 0; i < 4 && p->allowed[i]; i++) {
			if (!strcmp(v->valuestring, p->allowed[i])) {
				size_t n;
				char *dst = str_value(s, p->name, &n);
				snprintf(dst, n, "%s", v->valuestring);
				cJSON_AddItemToArray(changed, cJSON_CreateString(p->name));
				return 200;
			}
		}
		return snprintf(err, cap, "%s: '%.40s' is not allowed", p->name, v->valuestring),
		       400;
	}
	double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	double min = !strcmp(p->name, "frame_time") ? 1.0 / s->max_rate_hz : p->min;
	if (!(x >= min && x <= p->max) || (p->kind == UINT && x != floor(x)))
		return snprintf(err, cap, "%s: value out of range [%g, %g]", p->name, min, p->max),
		       400;
	cJSON_AddItemToArray(changed, cJSON_CreateString(p->name));
	if (!strcmp(p->name, "count_time")) {
		s->cfg.count_time = x;
		s->mu_valid = false;
		if (s->cfg.frame_time < x) {
			s->cfg.frame_time = x;
			cJSON_AddItemToArray(changed, cJSON_CreateString("frame_time"));
		}
	} else if (!strcmp(p->name, "frame_time")) {
		s->cfg.frame_time = x;
		if (s->cfg.count_time > x) {
			s->cfg.count_time = x;
			s->mu_valid = false;
			cJSON_AddItemToArray(changed, cJSON_CreateString("count_time"));
		}
	} else if (!strcmp(p->name, "nimages")) {
		s->cfg.nimages = (uint64_t)x;
	} else if (!strcmp(p->name, "ntrigger")) {
		s->cfg.ntrigger = (uint64_t)x;
	} else if (x == 16 || x == 32) {
		s->cfg.type = x == 16 ? BL_DTYPE_UINT16 : BL_DTYPE_UINT32;
	} else {
		return snprintf(err, cap, "bit_depth_image is 16 or 32"), 400;
	}
	return 200;
}

static enum MHD_Result reply(struct MHD_Connection *c, struct det_sim *s, int status,
			     const char *text, bool json)
{
	char bad[] = "{\"value\": [truncated";
	if (json && status == 200 && s->badjson) { /* the `badjson` fault */
		s->badjson--;
		text = bad;
	}
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", json ? "application/json" : "text/plain");
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, struct det_sim *s, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	enum MHD_Result r = reply(c, s, 200, text ? text : "{}", true);
	cJSON_free(text);
	return r;
}

static enum MHD_Result command(struct MHD_Connection *c, struct det_sim *s, const char *cmd)
{
	char err[160] = "";
	int st;
	if (!strcmp(cmd, "arm"))
		st = det_arm(s, err, sizeof(err));
	else if (!strcmp(cmd, "trigger"))
		st = det_trigger(s, err, sizeof(err));
	else if (!strcmp(cmd, "disarm") || !strcmp(cmd, "abort") || !strcmp(cmd, "cancel"))
		st = det_disarm(s, !strcmp(cmd, "abort"));
	else if (!strcmp(cmd, "initialize"))
		st = 200, s->state = s->state == DET_ERROR ? DET_IDLE : s->state;
	else
		return reply(c, s, 404, "no such command", false);
	if (st != 200)
		return reply(c, s, st, err, false);
	if (!strcmp(cmd, "trigger") || !strcmp(cmd, "initialize"))
		return reply(c, s, 200, "", false);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "sequence id", (double)s->series);
	return reply_json(c, s, o);
}

static const char *const state_names[] = {"idle", "ready", "acquire", "error"};

static enum MHD_Result handle(struct det_sim *s, struct MHD_Connection *c, const char *url,
			      bool put, const struct body *b)
{
	char sub[16], ver[24], section[16], key[48], extra[8];
	int n =
	    sscanf(url, "/%15[^/]/api/%23[^/]/%15[^/]/%47[^/]%7s", sub, ver, section, key, extra);
	bool det = n == 4 && !strcmp(sub, "detector"), str = n == 4 && !strcmp(sub, "stream");
	if ((!det && !str) || strcmp(ver, s->api_version))
		return reply(c, s, 404, "no such resource", false);
	if (!strcmp(section, "command") && det) {
		if (!put)
			return reply(c, s, 405, "commands take PUT", false);
		return command(c, s, key);
	}
	if (!strcmp(section, "status")) {
		if (put)
			return reply(c, s, 405, "status is read-only", false);
		if (strcmp(key, "state"))
			return reply(c, s, 404, "no such status", false);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "value", det ? state_names[s->state] : "ready");
		cJSON_AddStringToObject(o, "value_type", "string");
		cJSON_AddStringToObject(o, "access_mode", "r");
		return reply_json(c, s, o);
	}
	const struct param *p = NULL;
	if (!strcmp(section, "config"))
		p = det ? find(det_params, sizeof(det_params) / sizeof(*det_params), key)
			: find(stream_params, sizeof(stream_params) / sizeof(*stream_params), key);
	if (!p)
		return reply(c, s, 404, "no such parameter", false);
	if (!put)
		return reply_json(c, s, describe(s, p));
	cJSON *in = b->overflow ? NULL : cJSON_ParseWithLength(b->buf, b->len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "value");
	if (!v) {
		cJSON_Delete(in);
		return reply(c, s, 400, "body is not {\"value\": ...}", false);
	}
	char err[160] = "";
	cJSON *changed = cJSON_CreateArray();
	int st = put_param(s, p, v, changed, err, sizeof(err));
	cJSON_Delete(in);
	if (st != 200) {
		cJSON_Delete(changed);
		return reply(c, s, st, err, false);
	}
	return reply_json(c, s, changed);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct det_sim *s = cls;
	bool put = !strcmp(method, "PUT");
	if (!put && strcmp(method, "GET"))
		return reply(c, s, 405, "GET or PUT", false);
	struct body *b = *con_cls;
	if (!b) { /* first call: headers only */
		b = calloc(1, sizeof(*b));
		if (!b)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		if (n > BODY_MAX - b->len)
			b->overflow = true;
		else
			memcpy(b->buf + b->len, upload, n), b->len += n;
		*upload_size = 0;
		return MHD_YES;
	}
	return handle(s, c, url, put, b);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

struct MHD_Daemon *det_http_start(struct det_sim *s, const char *host, int port, int *bound)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (!host || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		a.sin_addr.s_addr = htonl(INADDR_ANY);
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, on_request, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (d) {
		const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		*bound = i ? i->port : port;
	}
	return d;
}

int det_http_fd(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

void det_http_run(struct MHD_Daemon *d)
{
	MHD_run(d);
}

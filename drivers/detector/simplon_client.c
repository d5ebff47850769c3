/* simplon_client.c: SIMPLON REST client: one libcurl easy handle per detector, JSON via cJSON,
 * curl and HTTP failures mapped to negative errno with a readable explanation. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_detector.h"

#define REPLY_MAX (64 * 1024)

struct bl_det {
	CURL *curl;
	char base[128]; /* http://host:port/ */
	char ver[16];
	int connect_ms, command_ms;
	char *reply; /* REPLY_MAX + 1, allocated once */
	size_t len;
	int http;
	char err[320];
};

int bl_det_open(const char *host, int port, const char *api_version, int connect_ms, int command_ms,
		struct bl_det **out)
{
	if (!host || !*host || port <= 0 || port > 65535 || !api_version || !*api_version)
		return -EINVAL;
	static int global_done;
	if (!global_done++)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	struct bl_det *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->reply = malloc(REPLY_MAX + 1);
	d->curl = curl_easy_init();
	if (!d->reply || !d->curl) {
		bl_det_free(d);
		return -ENOMEM;
	}
	snprintf(d->base, sizeof(d->base), "http://%s:%d/", host, port);
	snprintf(d->ver, sizeof(d->ver), "%s", api_version);
	d->connect_ms = connect_ms > 0 ? connect_ms : 2000;
	d->command_ms = command_ms > 0 ? command_ms : 5000;
	*out = d;
	return 0;
}

int bl_det_new(const struct bl_hwdb_device *dev, struct bl_det **out)
{
	if (!dev->model || dev->model->protocol != BL_PROTO_SIMPLON)
		return -EINVAL;
	const struct bl_hwdb_transport *t = &dev->transport;
	return bl_det_open(t->host[0] ? t->host : "127.0.0.1", t->port ? t->port : 80,
			   dev->model->detector.api_version, dev->timeouts.connect_ms,
			   dev->timeouts.command_ms, out);
}

void bl_det_free(struct bl_det *d)
{
	if (!d)
		return;
	if (d->curl)
		curl_easy_cleanup(d->curl);
	free(d->reply);
	free(d);
}

const char *bl_det_error(const struct bl_det *d)
{
	return d->err;
}

int bl_det_http_status(const struct bl_det *d)
{
	return d->http;
}

__attribute__((format(printf, 3, 4))) static int fail(struct bl_det *d, int rc, const char *fmt,
						      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return rc;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct bl_det *d = ctx;
	size_t bytes = size * n;
	if (bytes > REPLY_MAX - d->len)
		return 0; /* too long for a SIMPLON reply: curl fails with a write error */
	memcpy(d->reply + d->len, p, bytes);
	d->len += bytes;
	return bytes;
}

static int curl_errno(CURLcode c, long os_errno)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT: return os_errno ? -(int)os_errno : -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR: return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	default: return -EIO;
	}
}

static int http_errno(long code)
{
	switch (code) {
	case 400: return -EINVAL;
	case 404: return -ENOENT;
	case 405: return -EOPNOTSUPP;
	case 409: return -EBUSY;
	default: return code >= 500 ? -EIO : -EPROTO;
	}
}

int bl_det_request(struct bl_det *d, const char *method, const char *path, const char *body,
		   const char **reply, int timeout_ms)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", d->base, path);
	d->len = 0;
	d->reply[0] = 0;
	d->http = 0;
	d->err[0] = 0;
	*reply = d->reply;
	CURL *c = d->curl;
	curl_easy_reset(c); /* keeps the connection cache */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)d->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 (long)(timeout_ms > 0 ? timeout_ms : d->command_ms));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
	struct curl_slist *hdr = NULL;
	if (!strcmp(method, "PUT")) {
		hdr = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	} else if (strcmp(method, "GET")) {
		return fail(d, -EINVAL, "%s %s: method not supported", method, path);
	}
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	d->reply[d->len] = 0;
	if (cc != CURLE_OK) {
		long os = 0;
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
		int rc = curl_errno(cc, os);
		return fail(d, rc, "%s %s: %s (%s)", method, url, curl_easy_strerror(cc),
			    strerror(-rc));
	}
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	d->http = (int)code;
	if (code >= 400) {
		size_t n = strcspn(d->reply, "\r\n");
		return fail(d, http_errno(code), "%s %s: HTTP %ld: %.*s", method, path, code,
			    (int)(n > 200 ? 200 : n), d->reply);
	}
	return 0;
}

/* Runs the request and parses the reply as a JSON object into *OUT (caller deletes). */
static int request_json(struct bl_det *d, const char *method, const char *path, const char *body,
			cJSON **out, int timeout_ms)
{
	const char *reply;
	int rc = bl_det_request(d, method, path, body, &reply, timeout_ms);
	if (rc)
		return rc;
	*out = cJSON_ParseWithLength(reply, d->len);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return fail(d, -EBADMSG, "%s %s: reply is not a JSON object: '%.60s'", method, path,
			    reply);
	}
	return 0;
}

static void key_path(const struct bl_det *d, char *p, size_t cap, const char *sub,
		     const char *section, const char *key)
{
	snprintf(p, cap, "%s/api/%s/%s/%s", sub, d->ver, section, key);
}

static int get_value(struct bl_det *d, const char *sub, const char *key, cJSON **root,
		     const cJSON **value)
{
	char path[160];
	key_path(d, path, sizeof(path), sub, "config", key);
	int rc = request_json(d, "GET", path, NULL, root, 0);
	if (rc)
		return rc;
	*value = cJSON_GetObjectItemCaseSensitive(*root, "value");
	if (!*value) {
		cJSON_Delete(*root);
		return fail(d, -EBADMSG, "GET %s: reply has no \"value\"", path);
	}
	return 0;
}

static int get_string(struct bl_det *d, const char *sub, const char *key, char *buf, size_t cap)
{
	cJSON *root;
	const cJSON *v;
	int rc = get_value(d, sub, key, &root, &v);
	if (rc)
		return rc;
	if (!cJSON_IsString(v))
		rc = fail(d, -EBADMSG, "%s %s: value is not a string", sub, key);
	else
		snprintf(buf, cap, "%s", v->valuestring);
	cJSON_Delete(root);
	return rc;
}

/* PUT {"value": V}; the reply (a list of the parameters that changed) is not needed. */
static int put_value(struct bl_det *d, const char *sub, const char *key, cJSON *v)
{
	char path[160];
	key_path(d, path, sizeof(path), sub, "config", key);
	cJSON *o = cJSON_CreateObject();
	char *body = NULL;
	if (o && v && cJSON_AddItemToObject(o, "value", v))
		v = NULL, body = cJSON_PrintUnformatted(o);
	cJSON_Delete(v);
	cJSON_Delete(o);
	if (!body)
		return fail(d, -ENOMEM, "PUT %s: out of memory", path);
	const char *reply;
	int rc = bl_det_request(d, "PUT", path, body, &reply, 0);
	cJSON_free(body);
	return rc;
}

int bl_det_get_number(struct bl_det *d, const char *key, double *out)
{
	cJSON *root;
	const cJSON *v;
	int rc = get_value(d, "detector", key, &root, &v);
	if (rc)
		return rc;
	if (!cJSON_IsNumber(v))
		rc = fail(d, -EBADMSG, "detector %s: value is not a number", key);
	else
		*out = v->valuedouble;
	cJSON_Delete(root);
	return rc;
}

int bl_det_set_number(struct bl_det *d, const char *key, double v)
{
	if (!isfinite(v))
		return fail(d, -EINVAL, "detector %s: %g is not a number", key, v);
	return put_value(d, "detector", key, cJSON_CreateNumber(v));
}

int bl_det_get_string(struct bl_det *d, const char *key, char *buf, size_t cap)
{
	return get_string(d, "detector", key, buf, cap);
}

int bl_det_set_string(struct bl_det *d, const char *key, const char *v)
{
	return put_value(d, "detector", key, cJSON_CreateString(v));
}

int bl_det_stream_get(struct bl_det *d, const char *key, char *buf, size_t cap)
{
	return get_string(d, "stream", key, buf, cap);
}

int bl_det_stream_set(struct bl_det *d, const char *key, const char *v)
{
	return put_value(d, "stream", key, cJSON_CreateString(v));
}

static int command(struct bl_det *d, const char *cmd, int timeout_ms)
{
	char path[160];
	const char *reply;
	key_path(d, path, sizeof(path), "detector", "command", cmd);
	return bl_det_request(d, "PUT", path, NULL, &reply, timeout_ms);
}

int bl_det_arm(struct bl_det *d, uint64_t *series)
{
	char path[160];
	cJSON *root;
	key_path(d, path, sizeof(path), "detector", "command", "arm");
	int rc = request_json(d, "PUT", path, NULL, &root, 0);
	if (rc)
		return rc;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "sequence id");
	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		rc = fail(d, -EBADMSG, "arm: reply has no \"sequence id\"");
	else
		*series = (uint64_t)v->valuedouble;
	cJSON_Delete(root);
	return rc;
}

int bl_det_trigger(struct bl_det *d, int timeout_ms)
{
	return command(d, "trigger", timeout_ms);
}

int bl_det_disarm(struct bl_det *d)
{
	return command(d, "disarm", 0);
}

int bl_det_abort(struct bl_det *d)
{
	return command(d, "abort", 0);
}

int bl_det_initialize(struct bl_det *d)
{
	return command(d, "initialize", 0);
}

static const char *const state_names[] = {"idle", "ready", "acquire", "error", "unknown"};

const char *bl_det_state_name(enum bl_det_state st)
{
	return (unsigned)st <= BL_DET_UNKNOWN ? state_names[st] : "unknown";
}

int bl_det_state(struct bl_det *d, enum bl_det_state *st)
{
	char path[160];
	cJSON *root;
	key_path(d, path, sizeof(path), "detector", "status", "state");
	int rc = request_json(d, "GET", path, NULL, &root, 0);
	if (rc)
		return rc;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "value");
	*st = BL_DET_UNKNOWN;
	for (int i = 0; cJSON_IsString(v) && i < BL_DET_UNKNOWN; i++)
		if (!strcmp(v->valuestring, state_names[i]))
			*st = (enum bl_det_state)i;
	if (*st == BL_DET_UNKNOWN)
		rc = fail(d, -EBADMSG, "status/state: unexpected value");
	cJSON_Delete(root);
	return rc;
}

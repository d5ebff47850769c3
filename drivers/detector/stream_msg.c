/* stream_msg.c: the JSON parts of Dectris stream v1 messages, written into caller buffers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "bl_dstream.h"

__attribute__((format(printf, 3, 4))) static int put(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -ENOBUFS : n;
}

int bl_dmsg_header(char *buf, size_t cap, uint64_t series, const char *detail)
{
	return put(buf, cap,
		   "{\"htype\":\"dheader-1.0\",\"series\":%" PRIu64 ",\"header_detail\":\"%s\"}",
		   series, detail);
}

int bl_dmsg_image(char *buf, size_t cap, uint64_t series, uint64_t frame, const char *hash)
{
	return put(buf, cap,
		   "{\"htype\":\"dimage-1.0\",\"series\":%" PRIu64 ",\"frame\":%" PRIu64
		   ",\"hash\":\"%s\"}",
		   series, frame, hash);
}

int bl_dmsg_image_d(char *buf, size_t cap, int width, int height, enum bl_dtype t, enum bl_denc e,
		    size_t size)
{
	return put(
	    buf, cap,
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[%d,%d],\"type\":\"%s\",\"encoding\":\"%s\","
	    "\"size\":%zu}",
	    width, height, bl_dtype_name(t), bl_denc_name(e), size);
}

int bl_dmsg_config(char *buf, size_t cap, uint64_t start_ns, uint64_t stop_ns, uint64_t real_ns)
{
	return put(buf, cap,
		   "{\"htype\":\"dconfig-1.0\",\"start_time\":%" PRIu64 ",\"stop_time\":%" PRIu64
		   ",\"real_time\":%" PRIu64 "}",
		   start_ns, stop_ns, real_ns);
}

int bl_dmsg_end(char *buf, size_t cap, uint64_t series)
{
	return put(buf, cap, "{\"htype\":\"dseries_end-1.0\",\"series\":%" PRIu64 "}", series);
}

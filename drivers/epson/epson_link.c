/* epson_link.c: the Epson driver's transport: non-blocking TCP connect, line framing on the
 * configured terminator, outstanding-command bookkeeping with deadlines, heartbeats and reconnects
 * with exponential backoff. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "epson_robot_int.h"

void epson_link_close(struct bl_epson *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->connecting = false;
	h->logged_in = false;
	h->rxlen = h->txlen = 0;
	memset(h->pend, 0, sizeof(h->pend));
}

void epson_link_fail(struct bl_epson *h, int rc, const char *text, int64_t now_ms)
{
	bool was_up = h->logged_in;
	epson_link_close(h);
	if (was_up)
		h->link_losses++;
	if (h->want_link) {
		h->next_retry_ms = now_ms + h->backoff_ms;
		h->backoff_ms = h->backoff_ms * 2 > h->cfg.backoff_max_ms ? h->cfg.backoff_max_ms
									  : h->backoff_ms * 2;
	}
	if (h->op_active)
		epson_op_finish(h, rc, "%s", text);
}

int epson_link_start(struct bl_epson *h, int64_t now_ms)
{
	epson_link_close(h);
	int fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h->fd = fd;
	if (connect(fd, (struct sockaddr *)&h->addr, h->addrlen) == 0)
		return 1;
	if (errno != EINPROGRESS) {
		int rc = -errno;
		epson_link_close(h);
		return rc;
	}
	h->connecting = true;
	h->connect_deadline = now_ms + h->cfg.connect_ms;
	return 0;
}

int epson_link_send(struct bl_epson *h, const char *line, enum epson_owner owner, int timeout_ms,
		    int64_t now_ms)
{
	const char *term = h->cfg.terminator;
	size_t len = strlen(line), tl = strlen(term);
	if (h->fd < 0 || h->connecting)
		return -ENOTCONN;
	if (h->txlen + len + tl > sizeof(h->tx))
		return -ENOBUFS;
	int slot = -1;
	for (int i = 0; i < EPSON_MAX_PENDING; i++)
		if (!h->pend[i].used) {
			slot = i;
			break;
		}
	if (slot < 0)
		return -EBUSY;
	/* The reply names the command: "$GetStatus" -> "#GetStatus" / "!GetStatus,NN". */
	struct epson_pending *p = &h->pend[slot];
	memset(p, 0, sizeof(*p));
	const char *s = line[0] == '$' ? line + 1 : line;
	size_t n = 0;
	while (s[n] && s[n] != ',' && n + 1 < sizeof(p->cmd)) {
		p->cmd[n] = s[n];
		n++;
	}
	p->used = true;
	p->owner = owner;
	p->deadline = now_ms + timeout_ms;
	memcpy(h->tx + h->txlen, line, len);
	memcpy(h->tx + h->txlen + len, term, tl);
	h->txlen += len + tl;
	h->last_tx_ms = now_ms;
	return 0;
}

static void dispatch(struct bl_epson *h, const char *line, size_t len, int64_t now_ms)
{
	struct bl_epson_reply r;
	const char *why = NULL;
	char text[160];
	if (bl_epson_parse_reply(line, len, &r, &why) < 0) {
		char shown[40];
		size_t k = 0;
		for (size_t i = 0; i < len && k + 5 < sizeof(shown); i++) {
			unsigned char c = (unsigned char)line[i];
			k += (size_t)snprintf(shown + k, sizeof(shown) - k,
					      c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
		}
		snprintf(text, sizeof(text), "garbled reply \"%s\": %s", shown, why);
		epson_link_fail(h, -EBADMSG, text, now_ms);
		return;
	}
	for (int i = 0; i < EPSON_MAX_PENDING; i++) {
		struct epson_pending *p = &h->pend[i];
		if (p->used && !strcmp(p->cmd, r.cmd)) {
			enum epson_owner owner = p->owner;
			p->used = false;
			epson_on_reply(h, owner, &r, now_ms);
			return;
		}
	}
	snprintf(text, sizeof(text), "unexpected reply for %.24s", r.cmd);
	epson_link_fail(h, -EBADMSG, text, now_ms);
}

static void check_connect(struct bl_epson *h, int64_t now_ms)
{
	struct pollfd pfd = {.fd = h->fd, .events = POLLOUT};
	if (poll(&pfd, 1, 0) > 0) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			char text[96];
			snprintf(text, sizeof(text), "connect: %s", strerror(err));
			epson_link_fail(h, -err, text, now_ms);
			return;
		}
		h->connecting = false;
		epson_on_connected(h, now_ms);
	} else if (now_ms >= h->connect_deadline) {
		epson_link_fail(h, -ETIMEDOUT, "connect timed out", now_ms);
	}
}

void epson_link_io(struct bl_epson *h, int64_t now_ms)
{
	if (h->fd >= 0 && h->connecting)
		check_connect(h, now_ms);
	if (h->fd < 0 || h->connecting)
		return;
	while (h->txlen) {
		ssize_t n = send(h->fd, h->tx, h->txlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			char text[96];
			snprintf(text, sizeof(text), "send: %s", strerror(errno));
			epson_link_fail(h, -ECONNRESET, text, now_ms);
			return;
		}
		memmove(h->tx, h->tx + n, h->txlen - (size_t)n);
		h->txlen -= (size_t)n;
	}
	for (;;) {
		ssize_t n = recv(h->fd, h->rx + h->rxlen, sizeof(h->rx) - h->rxlen, MSG_DONTWAIT);
		if (n == 0) {
			epson_link_fail(h, -ECONNRESET, "controller closed the connection", now_ms);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			char text[96];
			snprintf(text, sizeof(text), "recv: %s", strerror(errno));
			epson_link_fail(h, -ECONNRESET, text, now_ms);
			return;
		}
		h->rxlen += (size_t)n;
		const char *term = h->cfg.terminator;
		size_t tl = strlen(term);
		for (;;) {
			char *end = memmem(h->rx, h->rxlen, term, tl);
			if (!end)
				break;
			size_t len = (size_t)(end - h->rx);
			char line[EPSON_RX_MAX];
			memcpy(line, h->rx, len);
			memmove(h->rx, end + tl, h->rxlen - len - tl);
			h->rxlen -= len + tl;
			dispatch(h, line, len, now_ms);
			if (h->fd < 0)
				return;
		}
		if (h->rxlen > BL_EPSON_LINE_MAX + tl) {
			epson_link_fail(h, -EBADMSG, "garbled reply: line too long", now_ms);
			return;
		}
	}
	for (int i = 0; i < EPSON_MAX_PENDING; i++) {
		struct epson_pending *p = &h->pend[i];
		if (p->used && now_ms >= p->deadline) {
			char text[96];
			snprintf(text, sizeof(text), "no reply to $%s in time", p->cmd);
			epson_link_fail(h, -ETIMEDOUT, text, now_ms);
			return;
		}
	}
}

void epson_link_background(struct bl_epson *h, int64_t now_ms)
{
	if (h->op_active)
		return;
	if (h->fd < 0 && h->want_link && now_ms >= h->next_retry_ms) {
		epson_start_connect_op(h, true, now_ms);
		return;
	}
	if (!h->logged_in || h->cfg.heartbeat_ms <= 0 ||
	    now_ms - h->last_tx_ms < h->cfg.heartbeat_ms)
		return;
	for (int i = 0; i < EPSON_MAX_PENDING; i++)
		if (h->pend[i].used)
			return;
	epson_link_send(h, "$GetStatus", OWN_HEARTBEAT, h->cfg.command_ms, now_ms);
}

int bl_epson_pollfd(const struct bl_epson *h, struct pollfd *pfd, int64_t now_ms)
{
	pfd->fd = h->fd;
	pfd->events = POLLIN | ((h->connecting || h->txlen) ? POLLOUT : 0);
	pfd->revents = 0;
	int64_t next = now_ms + 1000;
	for (int i = 0; i < EPSON_MAX_PENDING; i++)
		if (h->pend[i].used && h->pend[i].deadline < next)
			next = h->pend[i].deadline;
	if (h->connecting && h->connect_deadline < next)
		next = h->connect_deadline;
	if (h->fd < 0 && h->want_link && h->next_retry_ms < next)
		next = h->next_retry_ms;
	if (h->logged_in && h->cfg.heartbeat_ms > 0 && h->last_tx_ms + h->cfg.heartbeat_ms < next)
		next = h->last_tx_ms + h->cfg.heartbeat_ms;
	return next <= now_ms ? 0 : (int)(next - now_ms);
}

/*
 * talkbox_rig: a virtual real-time sound card for tests, as an ALSA I/O plugin.
 *
 * ALSA's file/null plugins run as fast as the CPU allows and the file plugin
 * holds a whole buffer back, so latency and barge-in cannot be measured through
 * them. This PCM behaves like a sound card instead:
 *
 * - The hardware pointer is a clock: frames = (now - start) x rate, with
 *   CLOCK_MONOTONIC, as a DMA engine would move it.
 * - Playback: a frame is written to `out` once the pointer has passed it, with a line
 *   in `log` per chunk, by a DMA thread that advances every TICK_NS (the tail of a
 *   stream comes out although the application calls nothing). The application's own
 *   calls only read the pointer: the card's bookkeeping (file writes, log lines) stays
 *   in the DMA thread, which benchmarks leave out of the application's CPU, as a real
 *   card's DMA costs the program nothing. It is done in the application's call only when
 *   the application needs the space that is not yet written out. When the pointer
 *   would pass the application's data, that is an underrun (ALSA reports -EPIPE;
 *   the application prepares and writes again). snd_pcm_drop discards what has not
 *   been played; snd_pcm_drain plays it out in real time.
 * - Capture: reads `infile` sequentially at the pointer's pace, silence after its
 *   end; `capture_log` gets a line per chunk. With `loopback "/abs/spk.raw"` (a
 *   playback stream's `out`, same rate and layout, S16_LE), what the speaker has
 *   played since the last read is mixed in: an acoustic path from speaker to mic.
 * - Poll: a timerfd that fires at every period boundary, as period interrupts do.
 *
 * Log lines (both logs): "<ns> <byte offset> <bytes>" per chunk, where ns is the
 * CLOCK_MONOTONIC time at which the chunk's first frame was played / captured;
 * "open <ns> <byte offset>" when a stream is opened (the offset its output starts
 * at); "xrun <ns>" when the pointer overtook the application; "stop <ns> <bytes>"
 * when the stream stopped (bytes: written but never played, discarded);
 * "close <ns>" when the PCM is closed.
 *
 * Config:
 *   pcm_type.talkbox_rig { lib "/abs/path/libasound_module_pcm_talkbox_rig.so" }
 *   pcm.spk { type talkbox_rig; out "/abs/out.raw"; log "/abs/out.log" }
 *   pcm.mic { type talkbox_rig; infile "/abs/in.raw"; capture_log "/abs/in.log" }
 * Files are opened when a stream is opened; `out` and the logs are appended to.
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NSEC 1000000000ULL
/* How often the DMA thread moves played frames to `out`. The log's times are exact
 * regardless; this only bounds how late a played frame appears in the file. */
#define TICK_NS 5000000LL

typedef struct {
	snd_pcm_ioplug_t io;
	char *data_path;      /* playback: out; capture: infile */
	int data_fd;
	int loop_fd;          /* capture: the speaker output mixed in, or -1 */
	int log_fd;           /* -1: no log */
	int timer_fd;
	uint64_t data_off;    /* byte offset in `out` / in the captured stream */
	int in_eof;
	unsigned int bpf;     /* bytes per frame */
	unsigned char *ring;  /* playback: buffer_size frames, indexed by position */
	snd_pcm_uframes_t boundary;
	int64_t period_ns;
	int write_failed;

	pthread_mutex_t lock; /* everything below; taken by callbacks and the DMA thread */
	pthread_cond_t wake;
	pthread_t dma;
	int dma_started;
	int running;
	int xrun;
	int64_t start_ns;
	uint64_t appl;        /* frames written (playback) / read (capture) since prepare */
	uint64_t hw;          /* frames played / captured since prepare */
} rig_t;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * (int64_t)NSEC + ts.tv_nsec;
}

/* Frames the pointer has moved by at `now` (split to stay in 64 bits for days). */
static uint64_t frames_due(const rig_t *r, int64_t now)
{
	uint64_t d, rate = r->io.rate;
	if (now <= r->start_ns)
		return 0;
	d = (uint64_t)(now - r->start_ns);
	return d / NSEC * rate + d % NSEC * rate / NSEC;
}

/* When the frame at `pos` is played / captured. */
static int64_t time_of(const rig_t *r, uint64_t pos)
{
	uint64_t rate = r->io.rate;
	return r->start_ns + (int64_t)(pos / rate * NSEC + pos % rate * NSEC / rate);
}

static void write_all(rig_t *r, int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!r->write_failed)
				SNDERR("talkbox_rig: writing the %s for %s failed: %s", what, r->data_path, strerror(errno));
			r->write_failed = 1;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void log_line(rig_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(rig_t *r, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int n;
	if (r->log_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line))
		write_all(r, r->log_fd, line, (size_t)n, "log"); /* one write: lines stay whole */
}

/* Playback, locked: write out every frame the pointer has passed by `now`. */
static void play_until(rig_t *r, int64_t now)
{
	uint64_t due, to, pos, off = r->data_off;
	snd_pcm_uframes_t size = r->io.buffer_size;

	if (!r->running || r->xrun)
		return;
	due = frames_due(r, now);
	to = due < r->appl ? due : r->appl;
	if (to > r->hw) {
		for (pos = r->hw; pos < to;) {
			uint64_t idx = pos % size, n = to - pos;
			if (n > size - idx)
				n = size - idx;
			write_all(r, r->data_fd, r->ring + idx * r->bpf, n * r->bpf, "output");
			pos += n;
		}
		r->data_off += (to - r->hw) * r->bpf;
		log_line(r, "%" PRId64 " %" PRIu64 " %" PRIu64 "\n", time_of(r, r->hw), off, (to - r->hw) * r->bpf);
		r->hw = to;
	}
	/* Past the end of the data: an underrun, unless draining, where it is the end. */
	if (due > r->appl && __atomic_load_n(&r->io.state, __ATOMIC_RELAXED) != SND_PCM_STATE_DRAINING) {
		r->xrun = 1;
		log_line(r, "xrun %" PRId64 "\n", time_of(r, r->appl));
	}
}

/*
 * Playback, locked: where the pointer is by `now`, without writing anything out (the DMA
 * thread does, within TICK_NS). Passing the application's data is an underrun, dealt
 * with at once as play_until does.
 */
static uint64_t played_by(rig_t *r, int64_t now)
{
	uint64_t due;
	if (!r->running || r->xrun)
		return r->hw;
	due = frames_due(r, now);
	if (due > r->appl && __atomic_load_n(&r->io.state, __ATOMIC_RELAXED) != SND_PCM_STATE_DRAINING) {
		play_until(r, now);
		return r->hw;
	}
	return due < r->appl ? due : r->appl;
}

/* Capture, locked: move the pointer; more than a buffer unread is an overrun. */
static void capture_until(rig_t *r, int64_t now)
{
	uint64_t due;
	if (!r->running || r->xrun)
		return;
	due = frames_due(r, now);
	if (due > r->appl + r->io.buffer_size) {
		r->xrun = 1;
		r->hw = r->appl + r->io.buffer_size;
		log_line(r, "xrun %" PRId64 "\n", time_of(r, r->hw));
	} else {
		r->hw = due;
	}
}

static void *dma_thread(void *arg)
{
	rig_t *r = arg;
	pthread_mutex_lock(&r->lock);
	while (r->running && !r->xrun) {
		int64_t now = now_ns(), next = now + TICK_NS;
		struct timespec until = { .tv_sec = next / (int64_t)NSEC, .tv_nsec = next % (int64_t)NSEC };
		play_until(r, now);
		if (!r->running || r->xrun)
			break;
		pthread_cond_timedwait(&r->wake, &r->lock, &until);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void set_timer(rig_t *r, int64_t first_ns, int64_t interval_ns, int flags)
{
	struct itimerspec it = {
		.it_value = { .tv_sec = first_ns / (int64_t)NSEC, .tv_nsec = first_ns % (int64_t)NSEC },
		.it_interval = { .tv_sec = interval_ns / (int64_t)NSEC, .tv_nsec = interval_ns % (int64_t)NSEC },
	};
	timerfd_settime(r->timer_fd, flags, &it, NULL);
}

/* Stops the "DMA": what has been played by now is written, the rest is discarded. */
static void halt(rig_t *r)
{
	int was_running;
	pthread_mutex_lock(&r->lock);
	was_running = r->running;
	if (r->running) {
		int64_t now = now_ns();
		if (r->io.stream == SND_PCM_STREAM_PLAYBACK)
			play_until(r, now);
		log_line(r, "stop %" PRId64 " %" PRIu64 "\n", now,
			 r->io.stream == SND_PCM_STREAM_PLAYBACK ? (r->appl - r->hw) * r->bpf : 0);
		r->running = 0;
		if (r->io.stream == SND_PCM_STREAM_PLAYBACK)
			r->appl = r->hw;
		pthread_cond_signal(&r->wake);
	}
	pthread_mutex_unlock(&r->lock);
	if (r->dma_started) {
		pthread_join(r->dma, NULL);
		r->dma_started = 0;
	}
	/* Like a driver's stop, wake anyone sleeping in poll so they see the new state. */
	if (was_running)
		set_timer(r, 1, 0, 0);
}

static int rig_start(snd_pcm_ioplug_t *io)
{
	rig_t *r = io->private_data;
	int err;
	pthread_mutex_lock(&r->lock);
	r->start_ns = now_ns();
	r->running = 1;
	r->xrun = 0;
	pthread_mutex_unlock(&r->lock);
	set_timer(r, r->start_ns + r->period_ns, r->period_ns, TFD_TIMER_ABSTIME);
	if (io->stream == SND_PCM_STREAM_PLAYBACK) {
		err = pthread_create(&r->dma, NULL, dma_thread, r);
		if (err) {
			pthread_mutex_lock(&r->lock);
			r->running = 0;
			pthread_mutex_unlock(&r->lock);
			return -err;
		}
		r->dma_started = 1;
		/* Named so a benchmark can tell the rig's CPU from the program's. */
		pthread_setname_np(r->dma, "talkbox-rig");
	}
	return 0;
}

static int rig_stop(snd_pcm_ioplug_t *io)
{
	halt(io->private_data);
	return 0;
}

static snd_pcm_sframes_t rig_pointer(snd_pcm_ioplug_t *io)
{
	rig_t *r = io->private_data;
	snd_pcm_sframes_t ret;
	uint64_t pos;
	pthread_mutex_lock(&r->lock);
	if (io->stream == SND_PCM_STREAM_PLAYBACK)
		pos = played_by(r, now_ns());
	else {
		capture_until(r, now_ns());
		pos = r->hw;
	}
	ret = r->xrun ? -EPIPE : (snd_pcm_sframes_t)(pos % r->boundary);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* Capture: the next bytes of infile, then silence. */
static void read_input(rig_t *r, unsigned char *buf, size_t len)
{
	while (len > 0 && !r->in_eof) {
		ssize_t n = read(r->data_fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				SNDERR("talkbox_rig: reading %s failed: %s", r->data_path, strerror(errno));
			r->in_eof = 1;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	memset(buf, 0, len);
}

/* Capture: adds what the speaker played since the last call (whole samples only). */
static void mix_loopback(rig_t *r, unsigned char *buf, size_t len)
{
	unsigned char tmp[8192];
	size_t done = 0;
	while (done < len) {
		size_t want = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
		ssize_t n = read(r->loop_fd, tmp, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (n & 1) {
			/* Half a sample: leave it for the next read. */
			lseek(r->loop_fd, -1, SEEK_CUR);
			n--;
		}
		for (ssize_t i = 0; i < n; i += 2) {
			int32_t a = (int16_t)(buf[done + i] | buf[done + i + 1] << 8);
			int32_t b = (int16_t)(tmp[i] | tmp[i + 1] << 8);
			int32_t v = a + b;
			v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
			buf[done + i] = (unsigned char)(v & 0xff);
			buf[done + i + 1] = (unsigned char)((v >> 8) & 0xff);
		}
		done += (size_t)n;
		if ((size_t)n < want)
			return;
	}
}

static snd_pcm_sframes_t rig_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
				      snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	rig_t *r = io->private_data;
	/* Interleaved access only (see the constraints), so one area describes the frames. */
	unsigned char *buf = (unsigned char *)areas[0].addr + (areas[0].first + areas[0].step * offset) / 8;
	size_t bytes = size * r->bpf;

	pthread_mutex_lock(&r->lock);
	if (r->xrun) {
		pthread_mutex_unlock(&r->lock);
		return -EPIPE;
	}
	if (io->stream == SND_PCM_STREAM_PLAYBACK) {
		snd_pcm_uframes_t done = 0;
		/* The pointer said this space is free; what it held may not be written out yet. */
		if (r->appl + size > r->hw + io->buffer_size)
			play_until(r, now_ns());
		while (done < size) {
			uint64_t idx = (r->appl + done) % io->buffer_size, n = size - done;
			if (n > io->buffer_size - idx)
				n = io->buffer_size - idx;
			memcpy(r->ring + idx * r->bpf, buf + done * r->bpf, n * r->bpf);
			done += n;
		}
	} else {
		read_input(r, buf, bytes);
		if (r->loop_fd >= 0)
			mix_loopback(r, buf, bytes);
		log_line(r, "%" PRId64 " %" PRIu64 " %zu\n", time_of(r, r->appl), r->data_off, bytes);
		r->data_off += bytes;
	}
	r->appl += size;
	pthread_mutex_unlock(&r->lock);
	return (snd_pcm_sframes_t)size;
}

static int rig_prepare(snd_pcm_ioplug_t *io)
{
	rig_t *r = io->private_data;
	halt(r);
	pthread_mutex_lock(&r->lock);
	r->appl = r->hw = 0;
	r->xrun = 0;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int rig_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	rig_t *r = io->private_data;
	(void)params;
	halt(r);
	r->bpf = (unsigned int)snd_pcm_format_physical_width(io->format) / 8 * io->channels;
	/* Rounded up: a wake-up must never come before the period boundary, or a reader
	 * waiting for a whole period would find one frame short and sleep a period more. */
	r->period_ns = (int64_t)(((uint64_t)io->period_size * NSEC + io->rate - 1) / io->rate);
	free(r->ring);
	r->ring = NULL;
	if (io->stream == SND_PCM_STREAM_PLAYBACK) {
		r->ring = malloc((size_t)io->buffer_size * r->bpf);
		if (!r->ring)
			return -ENOMEM;
	}
	return 0;
}

static int rig_hw_free(snd_pcm_ioplug_t *io)
{
	rig_t *r = io->private_data;
	halt(r);
	free(r->ring);
	r->ring = NULL;
	return 0;
}

/* The pointer is reported modulo the boundary (SND_PCM_IOPLUG_FLAG_BOUNDARY_WA), which
 * alsa-lib only tells through sw_params; it sets them after every hw_params. */
static int rig_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	rig_t *r = io->private_data;
	snd_pcm_uframes_t boundary;
	if (snd_pcm_sw_params_get_boundary(params, &boundary) == 0 && boundary > 0)
		r->boundary = boundary;
	return 0;
}

/* The timerfd is readable at period boundaries; consume the expiries and report the
 * stream's direction. alsa-lib then checks the pointer and state itself. */
static int rig_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds, unsigned short *revents)
{
	rig_t *r = io->private_data;
	uint64_t expiries;
	if (nfds != 1)
		return -EINVAL;
	*revents = pfd[0].revents & (POLLERR | POLLNVAL);
	if (pfd[0].revents & POLLIN) {
		while (read(r->timer_fd, &expiries, sizeof(expiries)) == (ssize_t)sizeof(expiries))
			;
		*revents |= io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN;
	}
	return 0;
}

static void rig_free(rig_t *r)
{
	if (r->data_fd >= 0)
		close(r->data_fd);
	if (r->loop_fd >= 0)
		close(r->loop_fd);
	if (r->log_fd >= 0)
		close(r->log_fd);
	if (r->timer_fd >= 0)
		close(r->timer_fd);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->data_path);
	free(r->ring);
	free(r);
}

static int rig_close(snd_pcm_ioplug_t *io)
{
	rig_t *r = io->private_data;
	halt(r);
	log_line(r, "close %" PRId64 "\n", now_ns());
	rig_free(r);
	return 0;
}

static const snd_pcm_ioplug_callback_t rig_callback = {
	.start = rig_start,
	.stop = rig_stop,
	.pointer = rig_pointer,
	.transfer = rig_transfer,
	.close = rig_close,
	.hw_params = rig_hw_params,
	.hw_free = rig_hw_free,
	.sw_params = rig_sw_params,
	.prepare = rig_prepare,
	.poll_revents = rig_poll_revents,
};

static int set_constraints(snd_pcm_ioplug_t *io)
{
	/* Capture transfers happen as the application reads; with mmap, ioplug would call
	 * transfer at mmap_begin, possibly more than once for the same frames. */
	static const unsigned int access[] = { SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_ACCESS_MMAP_INTERLEAVED };
	unsigned int n_access = io->stream == SND_PCM_STREAM_PLAYBACK ? 2 : 1;
	static const unsigned int formats[] = { SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S32_LE };
	int err;
	if ((err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, n_access, access)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 2, formats)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 2)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE, 8000, 48000)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 32, 1 << 20)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 64, 4 << 20)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 2, 1024)) < 0)
		return err;
	return 0;
}

static int open_file(const char *path, int flags, const char *what)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		SNDERR("talkbox_rig: cannot open %s '%s': %s", what, path, strerror(errno));
	return fd;
}

SND_PCM_PLUGIN_DEFINE_FUNC(talkbox_rig)
{
	snd_config_iterator_t i, next;
	const char *out = NULL, *log = NULL, *infile = NULL, *capture_log = NULL, *loopback = NULL, *data, *log_path;
	pthread_condattr_t cattr;
	rig_t *r;
	int err;

	(void)root;
	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id, **dst = NULL;
		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		if (!strcmp(id, "out"))
			dst = &out;
		else if (!strcmp(id, "log"))
			dst = &log;
		else if (!strcmp(id, "infile"))
			dst = &infile;
		else if (!strcmp(id, "capture_log"))
			dst = &capture_log;
		else if (!strcmp(id, "loopback"))
			dst = &loopback;
		if (!dst || snd_config_get_string(n, dst) < 0) {
			SNDERR("talkbox_rig: '%s' is not a known string field (out, log, infile, capture_log, loopback)", id);
			return -EINVAL;
		}
	}
	data = stream == SND_PCM_STREAM_PLAYBACK ? out : infile;
	log_path = stream == SND_PCM_STREAM_PLAYBACK ? log : capture_log;
	if (!data) {
		SNDERR("talkbox_rig: %s needs '%s \"/path\"' in the PCM definition",
		       stream == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture",
		       stream == SND_PCM_STREAM_PLAYBACK ? "out" : "infile");
		return -EINVAL;
	}

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->data_fd = r->loop_fd = r->log_fd = r->timer_fd = -1;
	r->boundary = (snd_pcm_uframes_t)LONG_MAX;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &cattr);
	pthread_condattr_destroy(&cattr);
	r->data_path = strdup(data);
	if (!r->data_path) {
		rig_free(r);
		return -ENOMEM;
	}
	if (stream == SND_PCM_STREAM_PLAYBACK)
		r->data_fd = open_file(data, O_WRONLY | O_CREAT | O_APPEND, "out");
	else
		r->data_fd = open_file(data, O_RDONLY, "infile");
	if (r->data_fd >= 0 && log_path)
		r->log_fd = open_file(log_path, O_WRONLY | O_CREAT | O_APPEND, "log");
	if (stream == SND_PCM_STREAM_CAPTURE && loopback && r->data_fd >= 0) {
		/* The speaker file may not exist yet; create it empty so reads start at its beginning. */
		r->loop_fd = open(loopback, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
		if (r->loop_fd < 0) {
			err = -errno;
			SNDERR("talkbox_rig: cannot open loopback '%s': %s", loopback, strerror(-err));
			rig_free(r);
			return err;
		}
		/* Mix in only what is played from now on. */
		lseek(r->loop_fd, 0, SEEK_END);
	}
	if (r->data_fd < 0 || (log_path && r->log_fd < 0)) {
		err = -errno;
		rig_free(r);
		return err;
	}
	if (stream == SND_PCM_STREAM_PLAYBACK) {
		off_t end = lseek(r->data_fd, 0, SEEK_END);
		r->data_off = end > 0 ? (uint64_t)end : 0;
	}
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->timer_fd < 0) {
		err = -errno;
		rig_free(r);
		return err;
	}

	r->io.version = SND_PCM_IOPLUG_VERSION;
	r->io.name = "talkbox rig: virtual real-time sound card";
	r->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;
	r->io.callback = &rig_callback;
	r->io.private_data = r;
	r->io.poll_fd = r->timer_fd;
	r->io.poll_events = POLLIN; /* a timerfd is readable, never writable */
	r->io.mmap_rw = 0;
	err = snd_pcm_ioplug_create(&r->io, name, stream, mode);
	if (err < 0) {
		rig_free(r);
		return err;
	}
	err = set_constraints(&r->io);
	if (err < 0) {
		snd_pcm_ioplug_delete(&r->io); /* calls rig_close */
		return err;
	}
	log_line(r, "open %" PRId64 " %" PRIu64 "\n", now_ns(), r->data_off);
	*pcmp = r->io.pcm;
	return 0;
}

SND_PCM_PLUGIN_SYMBOL(talkbox_rig);

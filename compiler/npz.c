/* npz.c — NumPy .npz bundles (zip archives of .npy members), and the
 * extension dispatch of bundle_load.
 *
 * Method: find the End Of Central Directory record by scanning back from the
 * end of the file (past an optional comment), follow the zip64 locator when
 * a field is saturated, then walk the central directory, which is the
 * authoritative list of members (local headers may hold zero sizes when a
 * data descriptor follows).  Each member is located through its local
 * header, inflated with zlib if deflated (raw deflate), CRC-checked, and
 * parsed as .npy.  Stored members are not copied: the tensor points into the
 * file buffer.  Every offset and size is checked against the buffer, and an
 * inflated size must be both declared and plausible for its compressed size,
 * so a hostile file cannot make us allocate more than it could hold. */
#include "cnnc.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define EOCD_SIZE 22
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
#define DEFLATE_MAX_RATIO 1032u                  /* deflate's best case */
#define MEMBER_MAX_BYTES ((uint64_t)1 << 32)    /* 4 GiB per tensor */

static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* What the central directory says about the archive and one member. */
typedef struct Directory {
    uint64_t entries, offset, size;
} Directory;

typedef struct Member {
    char *name;
    uint32_t flags, method, crc;
    uint64_t csize, usize, local_offset;
} Member;

static bool fail(char *err, size_t errlen, const char *msg) {
    snprintf(err, errlen, "%s", msg);
    return false;
}

/* ------------------------------------------------------- end of archive */

static bool find_eocd(const unsigned char *buf, size_t len, size_t *pos) {
    if (len < EOCD_SIZE)
        return false;
    size_t lowest = len - EOCD_SIZE > 0xffff ? len - EOCD_SIZE - 0xffff : 0;
    for (size_t p = len - EOCD_SIZE + 1; p-- > lowest;) {
        if (rd32(buf + p) == SIG_EOCD && p + EOCD_SIZE + rd16(buf + p + 20) == len) {
            *pos = p;
            return true;
        }
    }
    return false;
}

/* The zip64 end record, reached through the locator just before the EOCD. */
static bool read_zip64_directory(const unsigned char *buf, size_t eocd, Directory *dir, char *err, size_t errlen) {
    if (eocd < 20 || rd32(buf + eocd - 20) != SIG_LOCATOR64)
        return fail(err, errlen, "bad zip: saturated directory fields but no zip64 locator");
    uint64_t rec = rd64(buf + eocd - 12);
    if (rec > eocd - 20 || eocd - 20 - rec < 56 || rd32(buf + rec) != SIG_EOCD64)
        return fail(err, errlen, "bad zip: zip64 end record out of place");
    dir->entries = rd64(buf + rec + 32);
    dir->size = rd64(buf + rec + 40);
    dir->offset = rd64(buf + rec + 48);
    return true;
}

static bool read_directory(const unsigned char *buf, size_t len, Directory *dir, char *err, size_t errlen) {
    size_t eocd;
    if (!find_eocd(buf, len, &eocd))
        return fail(err, errlen, "not a zip archive (no end of central directory)");
    dir->entries = rd16(buf + eocd + 10);
    dir->size = rd32(buf + eocd + 12);
    dir->offset = rd32(buf + eocd + 16);
    if ((dir->entries == 0xffff || dir->size == 0xffffffff || dir->offset == 0xffffffff) &&
        !read_zip64_directory(buf, eocd, dir, err, errlen))
        return false;
    if (dir->offset > eocd || dir->size > eocd - dir->offset)
        return fail(err, errlen, "bad zip: central directory lies outside the file");
    if (dir->entries > dir->size / CENTRAL_SIZE)
        return fail(err, errlen, "bad zip: more entries declared than the central directory holds");
    return true;
}

/* ------------------------------------------------------ central entries */

/* Saturated 32-bit fields are replaced from the zip64 extra field (id 1),
 * which holds them in this fixed order, only those that are saturated. */
static bool apply_zip64_extra(const unsigned char *extra, size_t n, Member *m, char *err, size_t errlen) {
    uint64_t *fields[] = {&m->usize, &m->csize, &m->local_offset};
    while (n >= 4) {
        uint32_t id = rd16(extra), size = rd16(extra + 2);
        if (size > n - 4)
            return fail(err, errlen, "bad zip: extra field overruns its entry");
        if (id == 1) {
            const unsigned char *p = extra + 4, *end = p + size;
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != 0xffffffff)
                    continue;
                if (end - p < 8)
                    return fail(err, errlen, "bad zip: zip64 extra field too short");
                *fields[i] = rd64(p);
                p += 8;
            }
        }
        extra += 4 + size;
        n -= 4 + size;
    }
    return true;
}

static bool read_central_entry(const unsigned char *buf, size_t *pos, size_t end, Member *m,
                               char *err, size_t errlen) {
    const unsigned char *e = buf + *pos;
    if (end - *pos < CENTRAL_SIZE || rd32(e) != SIG_CENTRAL)
        return fail(err, errlen, "bad zip: corrupt central directory entry");
    size_t name_len = rd16(e + 28), extra_len = rd16(e + 30), comment_len = rd16(e + 32);
    if (name_len + extra_len + comment_len > end - *pos - CENTRAL_SIZE)
        return fail(err, errlen, "bad zip: central directory entry overruns the directory");
    m->flags = rd16(e + 8);
    m->method = rd16(e + 10);
    m->crc = rd32(e + 16);
    m->csize = rd32(e + 20);
    m->usize = rd32(e + 24);
    m->local_offset = rd32(e + 42);
    m->name = arena_strndup((const char *)e + CENTRAL_SIZE, name_len);
    *pos += CENTRAL_SIZE + name_len + extra_len + comment_len;
    return apply_zip64_extra(e + CENTRAL_SIZE + name_len, extra_len, m, err, errlen);
}

/* ---------------------------------------------------------- member data */

static bool member_fail(char *err, size_t errlen, const Member *m, const char *msg) {
    snprintf(err, errlen, "member '%s': %s", m->name, msg);
    return false;
}

/* Where the member's compressed bytes start, from its local header. */
static bool locate_data(const unsigned char *buf, size_t len, const Member *m, const unsigned char **data,
                        char *err, size_t errlen) {
    if (m->local_offset > len || len - m->local_offset < LOCAL_SIZE ||
        rd32(buf + m->local_offset) != SIG_LOCAL)
        return member_fail(err, errlen, m, "local header missing or out of the file");
    const unsigned char *h = buf + m->local_offset;
    uint64_t start = m->local_offset + LOCAL_SIZE + rd16(h + 26) + rd16(h + 28);
    if (start > len || m->csize > len - start) {
        snprintf(err, errlen, "member '%s': truncated: %llu bytes of compressed data declared, file has %llu",
                 m->name, (unsigned long long)m->csize,
                 (unsigned long long)(start > len ? 0 : len - start));
        return false;
    }
    *data = buf + start;
    return true;
}

static bool inflate_member(const unsigned char *src, const Member *m, unsigned char **out,
                           char *err, size_t errlen) {
    if (m->usize > MEMBER_MAX_BYTES || m->usize > m->csize * DEFLATE_MAX_RATIO + 64)
        return member_fail(err, errlen, m, "declared uncompressed size is implausible");
    unsigned char *dst = arena_alloc((size_t)m->usize);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK)
        return member_fail(err, errlen, m, "zlib initialisation failed");
    int rc = Z_OK;
    uint64_t in_left = m->csize, out_left = m->usize;
    zs.next_in = (unsigned char *)src;
    zs.next_out = dst;
    while (rc == Z_OK) {   /* avail_* are 32-bit: feed in chunks */
        uInt in_chunk = in_left > 1u << 30 ? 1u << 30 : (uInt)in_left;
        uInt out_chunk = out_left > 1u << 30 ? 1u << 30 : (uInt)out_left;
        zs.avail_in = in_chunk;
        zs.avail_out = out_chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        in_left -= in_chunk - zs.avail_in;
        out_left -= out_chunk - zs.avail_out;
        if (rc == Z_OK && zs.avail_in == in_chunk && zs.avail_out == out_chunk)
            rc = Z_BUF_ERROR;   /* no progress */
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || out_left)
        return member_fail(err, errlen, m, "corrupt deflate data or wrong uncompressed size");
    *out = dst;
    return true;
}

static bool member_bytes(const unsigned char *buf, size_t len, const Member *m, const unsigned char **out,
                         char *err, size_t errlen) {
    const unsigned char *data;
    if (m->flags & 1)
        return member_fail(err, errlen, m, "encrypted members are not supported");
    if (!locate_data(buf, len, m, &data, err, errlen))
        return false;
    if (m->method == 0) {
        if (m->usize != m->csize)
            return member_fail(err, errlen, m, "stored member with differing sizes");
        *out = data;
    } else if (m->method == 8) {
        unsigned char *inflated;
        if (!inflate_member(data, m, &inflated, err, errlen))
            return false;
        *out = inflated;
    } else {
        snprintf(err, errlen, "member '%s': compression method %u not supported (only stored or deflated)",
                 m->name, m->method);
        return false;
    }
    uint32_t crc = (uint32_t)crc32_z(0, *out, (size_t)m->usize);
    if (crc != m->crc) {
        snprintf(err, errlen, "member '%s': CRC mismatch (stored %08x, computed %08x)", m->name, m->crc, crc);
        return false;
    }
    return true;
}

/* ----------------------------------------------------------- the bundle */

static bool load_member(const unsigned char *buf, size_t len, const Member *m, Bundle *out,
                        char *err, size_t errlen) {
    size_t n = strlen(m->name);
    if (n <= 4 || strcmp(m->name + n - 4, ".npy"))
        return true;   /* not a tensor: directories, stray files */
    char *name = arena_strndup(m->name, n - 4);
    if (bundle_find(out, name)) {
        snprintf(err, errlen, "tensor '%s' appears twice", name);
        return false;
    }
    const unsigned char *bytes;
    if (!member_bytes(buf, len, m, &bytes, err, errlen))
        return false;
    RawTensor *t = &out->tensors[out->count];
    char sub[200];
    if (!npy_parse(bytes, (size_t)m->usize, t, sub, sizeof sub)) {
        snprintf(err, errlen, "member '%s': %s", m->name, sub);
        return false;
    }
    t->name = name;
    out->count++;
    return true;
}

bool npz_parse(const unsigned char *buf, size_t len, Bundle *out, char *err, size_t errlen) {
    Directory dir;
    out->tensors = NULL;
    out->count = 0;
    if (!read_directory(buf, len, &dir, err, errlen))
        return false;
    out->tensors = arena_alloc((size_t)dir.entries * sizeof *out->tensors);
    size_t pos = (size_t)dir.offset, end = (size_t)(dir.offset + dir.size);
    for (uint64_t i = 0; i < dir.entries; i++) {
        Member m;
        if (!read_central_entry(buf, &pos, end, &m, err, errlen) || !load_member(buf, len, &m, out, err, errlen))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------- dispatch */

bool bundle_load(const char *path, Bundle *out, char *err, size_t errlen) {
    bool npz = ends_with(path, ".npz"), st = ends_with(path, ".safetensors");
    out->path = path;
    out->tensors = NULL;
    out->count = 0;
    if (!npz && !st) {
        snprintf(err, errlen, "'%s' is not a weights bundle: expected a .npz or .safetensors file", path);
        return false;
    }
    size_t len;
    char *buf = read_whole_file(path, &len);
    if (!buf) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return false;
    }
    const unsigned char *bytes = (const unsigned char *)buf;
    bool ok = npz ? npz_parse(bytes, len, out, err, errlen) : safetensors_parse(bytes, len, out, err, errlen);
    out->path = path;
    return ok;
}

const RawTensor *bundle_find(const Bundle *b, const char *name) {
    for (int i = 0; i < b->count; i++)
        if (!strcmp(b->tensors[i].name, name))
            return &b->tensors[i];
    return NULL;
}

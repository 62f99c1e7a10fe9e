/* virtmc-http.c: one HTTP request to virtmcd through libcurl, and what its
 * outcome means for virtmc's exit code.
 *
 * The only libcurl user.  Digest, Basic and TLS are libcurl's: this file
 * never builds an Authorization header or touches a certificate itself.  It
 * reports a failure on stderr exactly once, so callers only pass the exit
 * code on. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "virtmc.h"

DEFINE_CLEANUP(CURL *, curl_easy_cleanup)
DEFINE_CLEANUP(struct curl_slist *, curl_slist_free_all)

/* A virtmcd answer is small; more than this is not one. */
#define MAX_BODY (64u << 20)

void reply_clear(Reply *r)
{
    free(r->body);
    json_unref(r->json);
    *r = (Reply){ 0 };
}

int vmc_http_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

void vmc_http_done(void)
{
    curl_global_cleanup();
}

const char *vmc_http_version(void)
{
    return curl_version_info(CURLVERSION_NOW)->version;
}

char *vmc_escape(const char *segment)
{
    char *e = curl_easy_escape(NULL, segment, 0);
    char *copy;

    if (!e)
        return NULL;
    copy = strdup(e);
    curl_free(e);
    return copy;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
    Buf *b = userdata;

    if (b->len + n > MAX_BODY)
        return 0; /* curl then fails the transfer with CURLE_WRITE_ERROR */
    buf_append(b, p, n);
    return b->oom ? 0 : n;
}

/* The server's "error", or NULL. */
static const char *error_of(const Reply *r)
{
    const char *s = NULL;

    if (r->json && json_is_object(r->json) && json_get_str(r->json, "error", &s) == 0)
        return s;
    return NULL;
}

int vmc_request(const Client *c, const char *method, const char *path, const char *body, Reply *ret)
{
    _cleanup_(curl_easy_cleanupp) CURL *h = curl_easy_init();
    _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
    _cleanup_free_ char *url = strdup_printf("%s%s", c->url, path);
    char errbuf[CURL_ERROR_SIZE] = "";
    Buf b = { 0 };
    Reply r = { 0 };
    const char *msg;
    CURLcode cc;
    long auth;

    if (!h || !url)
        goto oom;
    headers = curl_slist_append(headers, "Accept: application/json");
    /* No "Expect: 100-continue" round trip for the small bodies sent here. */
    if (headers)
        headers = curl_slist_append(headers, "Expect:");
    if (body && headers)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    if (!headers)
        goto oom;

    (void)curl_easy_setopt(h, CURLOPT_URL, url);
    (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    (void)curl_easy_setopt(h, CURLOPT_USERAGENT, "virtmc/" PACKAGE_VERSION);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* Actions may wait for a busy machine ([power] lock_timeout, 30 s) and
     * then for libvirt: generous, but never forever. */
    (void)curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    if (c->unix_path)
        (void)curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
    if (c->cacert)
        (void)curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->insecure) {
        (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->user) {
        auth = c->auth == VMC_AUTH_DIGEST  ? CURLAUTH_DIGEST
               : c->auth == VMC_AUTH_BASIC ? CURLAUTH_BASIC
                                           : CURLAUTH_DIGEST | CURLAUTH_BASIC;
        (void)curl_easy_setopt(h, CURLOPT_HTTPAUTH, auth);
        (void)curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        (void)curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    if (body) {
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    /* POST without a body too: no form Content-Type, no Content-Length. */
    if (!streq(method, "GET") || body)
        (void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        buf_free(&b);
        if (cc == CURLE_WRITE_ERROR) {
            fprintf(stderr, "virtmc: the answer of %s is too large or memory ran out\n", url);
            return VMC_EXIT_REFUSED;
        }
        fprintf(stderr, "virtmc: cannot reach %s: %s\n", c->unix_path ? c->unix_path : c->url,
                errbuf[0] ? errbuf : curl_easy_strerror(cc));
        return VMC_EXIT_UNREACHABLE;
    }
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    r.len = b.len;
    r.body = b.data ? buf_steal(&b) : strdup("");
    if (!r.body)
        goto oom;
    if (r.len > 0 && json_parse(r.body, r.len, &r.json) < 0)
        r.json = NULL;

    if (r.status >= 200 && r.status < 300) {
        *ret = r;
        return VMC_EXIT_OK;
    }
    msg = error_of(&r);
    if (r.status == 401) {
        if (!c->user)
            fprintf(stderr,
                    "virtmc: %s asks for credentials: give --user and a password "
                    "(VIRTMC_USER, VIRTMC_PASSWORD)\n",
                    c->url);
        else
            fprintf(stderr, "virtmc: authentication as '%s' failed%s%s\n", c->user, msg ? ": " : "",
                    msg ? msg : "");
        reply_clear(&r);
        return VMC_EXIT_UNREACHABLE;
    }
    if (r.status == 429) {
        fprintf(stderr, "virtmc: too many failed logins: %s\n", msg ? msg : "try again later");
        reply_clear(&r);
        return VMC_EXIT_UNREACHABLE;
    }
    if (msg) {
        Json *hosts = json_get(r.json, "hosts");

        fprintf(stderr, "virtmc: %s", msg);
        /* A name on several hosts (409): which ones, for --host. */
        for (size_t i = 0; i < json_arr_len(hosts); i++)
            if (json_as_str(json_arr_get(hosts, i)))
                fprintf(stderr, "%s%s",
                        i ? ", " : " (hosts: ", json_as_str(json_arr_get(hosts, i)));
        fprintf(stderr, "%s\n", json_arr_len(hosts) ? "; give --host)" : "");
    } else
        fprintf(stderr, "virtmc: %s %s answered HTTP %ld without a virtmcd error\n", method, url,
                r.status);
    reply_clear(&r);
    return VMC_EXIT_REFUSED;

oom:
    buf_free(&b);
    fprintf(stderr, "virtmc: out of memory\n");
    return VMC_EXIT_REFUSED;
}

/* A minimal custom runtime for the sandbox tests: one loop of the Lambda
 * Runtime API over a plain socket. GET .../invocation/next, then POST the
 * event back as the response. With WRITE_PATH set it first writes that file
 * and reports a failure through .../invocation/{id}/error; with INIT_ERROR set
 * it reports .../init/error and exits; with HANG_SECONDS it sleeps that long
 * before answering. Built with
 * -DWITH_GREET it calls greet() from libgreet.so (a library the package must
 * ship); with -DWITH_ARC4RANDOM it needs glibc 2.36's arc4random. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef WITH_GREET
const char *greet(void);
#endif

static char host[64];
static int port;

static int connect_api(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("connect to runtime API");
    exit(3);
  }
  return s;
}

/* Sends a request and reads the whole answer (headers + body) into buf. */
static size_t request(const char *method, const char *path, const char *body, size_t blen,
                      char *buf, size_t cap) {
  int s = connect_api();
  char head[512];
  int n = snprintf(head, sizeof head,
                   "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   method, path, host, blen);
  if (write(s, head, n) != n || (blen && write(s, body, blen) != (ssize_t)blen)) {
    perror("write");
    exit(3);
  }
  size_t got = 0;
  ssize_t r;
  while (got + 1 < cap && (r = read(s, buf + got, cap - 1 - got)) > 0) got += r;
  buf[got] = 0;
  close(s);
  return got;
}

static char answer[1 << 20];

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api || sscanf(api, "%63[^:]:%d", host, &port) != 2) {
    fprintf(stderr, "AWS_LAMBDA_RUNTIME_API unset\n");
    return 2;
  }
#ifdef WITH_GREET
  fprintf(stderr, "%s\n", greet());
#endif
#ifdef WITH_ARC4RANDOM
  fprintf(stderr, "random %u\n", arc4random());
#endif
  if (getenv("INIT_ERROR")) {
    const char *err = "{\"errorMessage\":\"planted init failure\",\"errorType\":\"InitFailed\"}";
    request("POST", "/2018-06-01/runtime/init/error", err, strlen(err), answer, sizeof answer);
    return 1;
  }
  size_t n = request("GET", "/2018-06-01/runtime/invocation/next", NULL, 0, answer, sizeof answer);
  char *body = strstr(answer, "\r\n\r\n");
  char *id = strcasestr(answer, "Lambda-Runtime-Aws-Request-Id: ");
  if (!body || !id) {
    fprintf(stderr, "bad answer from next: %s\n", answer);
    return 4;
  }
  body += 4;
  id += strlen("Lambda-Runtime-Aws-Request-Id: ");
  char rid[128];
  sscanf(id, "%127[^\r\n]", rid);
  size_t blen = n - (body - answer);
  char *event = malloc(blen + 1);
  memcpy(event, body, blen);
  if (getenv("HANG_SECONDS")) sleep(atoi(getenv("HANG_SECONDS")));
  char path[256];
  const char *target = getenv("WRITE_PATH");
  if (target) {
    FILE *f = fopen(target, "w");
    if (!f || fputs("state\n", f) < 0 || fclose(f) != 0) {
      char err[512];
      int m = snprintf(err, sizeof err, "{\"errorMessage\":\"cannot write %s: %s\",\"errorType\":\"WriteFailed\"}",
                       target, strerror(errno));
      snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/error", rid);
      request("POST", path, err, m, answer, sizeof answer);
      return 0;
    }
  }
  snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", rid);
  request("POST", path, event, blen, answer, sizeof answer);
  /* A runtime loops: wait for the next event, which never comes. */
  request("GET", "/2018-06-01/runtime/invocation/next", NULL, 0, answer, sizeof answer);
  return 0;
}

// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.
//
// Resolves librdkafka with dlopen/dlsym once per process and defines the trampolines declared in CRdKafka.h.
#include "CRdKafka.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// One pointer per function, typed as the real function so a call through it is checked by the compiler.
#define FLOE_POINTER(ret, name, params, args) static __typeof__(&name) floe_p_##name;
#define FLOE_POINTER_VOID(name, params, args) static __typeof__(&name) floe_p_##name;
FLOE_RDKAFKA_FUNCTIONS(FLOE_POINTER, FLOE_POINTER_VOID)

// The trampoline's declared type (from the list) must be the real function's type (from rdkafka.h): a list entry
// with a wrong parameter or return type fails the build here rather than corrupting a call at run time.
#define FLOE_CHECK(ret, name, params, args) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), __typeof__(&floe_##name)), \
                   "CRdKafka.h declares " #name " with a signature other than rdkafka.h's");
#define FLOE_CHECK_VOID(name, params, args) FLOE_CHECK(void, name, params, args)
FLOE_RDKAFKA_FUNCTIONS(FLOE_CHECK, FLOE_CHECK_VOID)

#define FLOE_TRAMPOLINE(ret, name, params, args) \
    ret floe_##name params { return floe_p_##name args; }
#define FLOE_TRAMPOLINE_VOID(name, params, args) \
    void floe_##name params { floe_p_##name args; }
FLOE_RDKAFKA_FUNCTIONS(FLOE_TRAMPOLINE, FLOE_TRAMPOLINE_VOID)

static pthread_once_t floe_load_once = PTHREAD_ONCE_INIT;
static int floe_load_status = -1;
static char floe_load_error[512];

#define FLOE_INSTALL_HINT "install it with `apt-get install librdkafka1` (or set FLOE_LIBRDKAFKA to its path)"

static void floe_load_once_body(void) {
    const char *path = getenv("FLOE_LIBRDKAFKA");
    if (path == NULL || path[0] == '\0') {
#ifdef __APPLE__
        path = "librdkafka.1.dylib";
#else
        path = "librdkafka.so.1";
#endif
    }
    // RTLD_LOCAL: librdkafka's symbols (and OpenSSL's, which it pulls in) stay out of the global namespace.
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(floe_load_error, sizeof floe_load_error, "librdkafka could not be loaded (%s): " FLOE_INSTALL_HINT,
                 reason != NULL ? reason : path);
        return;
    }
#define FLOE_RESOLVE(ret, name, params, args) \
    floe_p_##name = (__typeof__(&name))dlsym(library, #name); \
    if (floe_p_##name == NULL) { \
        snprintf(floe_load_error, sizeof floe_load_error, \
                 "%s has no symbol %s: it is not librdkafka %s or newer; " FLOE_INSTALL_HINT, path, #name, "2.0.2"); \
        dlclose(library); \
        return; \
    }
#define FLOE_RESOLVE_VOID(name, params, args) FLOE_RESOLVE(void, name, params, args)
    FLOE_RDKAFKA_FUNCTIONS(FLOE_RESOLVE, FLOE_RESOLVE_VOID)
#undef FLOE_RESOLVE
#undef FLOE_RESOLVE_VOID
    int version = floe_p_rd_kafka_version();
    if (version < FLOE_RDKAFKA_MIN_VERSION) {
        snprintf(floe_load_error, sizeof floe_load_error,
                 "%s is librdkafka %s, older than the 2.0.2 Floe needs: " FLOE_INSTALL_HINT, path,
                 floe_p_rd_kafka_version_str());
        dlclose(library);
        return;
    }
    // The library stays loaded for the life of the process: handles and callbacks may outlive any one caller.
    floe_load_status = 0;
}

int floe_rdkafka_load(char *err, size_t errlen) {
    pthread_once(&floe_load_once, floe_load_once_body);
    if (floe_load_status != 0 && err != NULL && errlen > 0) {
        snprintf(err, errlen, "%s", floe_load_error);
    }
    return floe_load_status;
}

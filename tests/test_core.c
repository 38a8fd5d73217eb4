/* Core: init, version, status messages, per-thread error detail, buffers, cancel tokens. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "gpurent.h"
#include "core/core_internal.h"

static void test_init_idempotent(void **state)
{
    (void)state;
    assert_int_equal(gpurent_init(), GPURENT_OK);
    assert_int_equal(gpurent_init(), GPURENT_OK);
}

static void *init_thread(void *arg)
{
    *(int *)arg = gpurent_init();
    return NULL;
}

static void test_init_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    int rc[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], NULL, init_thread, &rc[i]);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(rc[i], GPURENT_OK);
    }
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(gpurent_version_number(), GPURENT_VERSION_NUMBER);
    assert_string_equal(gpurent_version_string(), GPURENT_VERSION_STRING);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(gpurent_strerror(GPURENT_OK), "success");
    assert_string_equal(gpurent_strerror(GPURENT_E_NONCANONICAL), "non-canonical encoding");
    assert_string_equal(gpurent_strerror(12345), "unknown status");
    assert_string_equal(gpurent_status_name(GPURENT_E_EXPIRED), "GPURENT_E_EXPIRED");
    assert_string_equal(gpurent_status_name(-9999), "GPURENT_E_UNKNOWN");
    /* Every code from -1 down to -700 either has a name or is unknown; named
     * codes have distinct messages. */
    for (int a = 0; a >= -700; a--)
        for (int b = a - 1; b >= -700; b--)
            if (strcmp(gpurent_status_name(a), "GPURENT_E_UNKNOWN") && strcmp(gpurent_status_name(b), "GPURENT_E_UNKNOWN"))
                assert_string_not_equal(gpurent_strerror(a), gpurent_strerror(b));
}

static void *fail_thread(void *arg)
{
    (void)arg;
    gr_fail(GPURENT_E_LIMIT, "thread detail");
    return NULL;
}

static void test_last_error_per_thread(void **state)
{
    (void)state;
    gpurent_error_clear();
    assert_string_equal(gpurent_last_error_message(), "");
    assert_int_equal(gpurent_last_error_status(), GPURENT_OK);
    assert_int_equal(gpurent_cancel_new(NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_last_error_status(), GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "out is NULL"));
    pthread_t t;
    pthread_create(&t, NULL, fail_thread, NULL);
    pthread_join(t, NULL);
    /* Another thread's failure does not touch ours. */
    assert_int_equal(gpurent_last_error_status(), GPURENT_E_INVALID_ARG);
    gpurent_error_clear();
    assert_string_equal(gpurent_last_error_message(), "");
}

static void test_buffers(void **state)
{
    (void)state;
    gr_bytes b;
    gr_bytes_init(&b);
    for (int i = 0; i < 1000; i++) gr_bytes_append(&b, "abc", 3);
    gpurent_buf out = {0};
    assert_int_equal(gr_bytes_finish(&b, &out), GPURENT_OK);
    assert_int_equal(out.len, 3000);
    assert_memory_equal(out.data + 2997, "abc", 3);
    gpurent_buf_free(&out);
    assert_null(out.data);
    assert_int_equal(out.len, 0);
    gpurent_buf_free(NULL);
    gpurent_free(NULL);
    /* A failed append poisons the buffer: finish reports NOMEM. */
    gr_bytes_init(&b);
    gr_bytes_append(&b, "x", 1);
    assert_int_equal(gr_bytes_reserve(&b, SIZE_MAX - 4), GPURENT_E_NOMEM);
    assert_int_equal(gr_bytes_finish(&b, &out), GPURENT_E_NOMEM);
}

static void test_cancel(void **state)
{
    (void)state;
    gpurent_cancel *c = NULL;
    assert_int_equal(gpurent_cancel_new(&c), GPURENT_OK);
    assert_int_equal(gpurent_cancel_requested(c), 0);
    gpurent_cancel_request(c);
    assert_int_equal(gpurent_cancel_requested(c), 1);
    gpurent_cancel_reset(c);
    assert_int_equal(gpurent_cancel_requested(c), 0);
    assert_int_equal(gpurent_cancel_requested(NULL), 0);
    gpurent_cancel_request(NULL);
    gpurent_cancel_free(c);
    gpurent_cancel_free(NULL);
}

static void test_options_version(void **state)
{
    (void)state;
    assert_int_equal(gr_check_version(1, 1, "x"), GPURENT_OK);
    assert_int_equal(gr_check_version(0, 1, "x"), GPURENT_E_VERSION);
    assert_int_equal(gr_check_version(2, 1, "x"), GPURENT_E_VERSION);
    assert_non_null(strstr(gpurent_last_error_message(), "options version 2 unknown"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_idempotent), cmocka_unit_test(test_init_threads),
        cmocka_unit_test(test_version),         cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_last_error_per_thread), cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_cancel),          cmocka_unit_test(test_options_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

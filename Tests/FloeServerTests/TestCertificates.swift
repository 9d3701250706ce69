// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Two self-signed certificates (CN floe-test-a and floe-test-b, subjectAltName IP:127.0.0.1 and DNS:localhost, P-256
/// keys, valid until 2126), each its own CA: made once with `openssl req -x509 -newkey ec …`, kept as data so that the
/// tests need no openssl.
enum TestCertificates {
    static let certificateA = """
        -----BEGIN CERTIFICATE-----
        MIIBnjCCAUWgAwIBAgIULZOxTMllP2Jb+0hMeUC53iqYEp0wCgYIKoZIzj0EAwIw
        FjEUMBIGA1UEAwwLZmxvZS10ZXN0LWEwIBcNMjYxMjA3MjIyNzE4WhgPMjEyNjEx
        MTMyMjI3MThaMBYxFDASBgNVBAMMC2Zsb2UtdGVzdC1hMFkwEwYHKoZIzj0CAQYI
        KoZIzj0DAQcDQgAEUsBcXC1L4Vk6DNTqCbwGvhCphuqoAPDf2uH/uypZwwXHLRzR
        vqo1g5F0VrF1DzOKCmhXMdgkK4QsjfUcE0KwQqNvMG0wHQYDVR0OBBYEFPYennsY
        aGfKc0UiPYrtyxJwRDsAMB8GA1UdIwQYMBaAFPYennsYaGfKc0UiPYrtyxJwRDsA
        MA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAoG
        CCqGSM49BAMCA0cAMEQCICJ8VJexXOXOyLMCCbLwPXq/e1mrPvWIkFBZTwuYFOFH
        AiBfyhb4D8NlxdEeJH8v2I6Omsv+Yor7vuaSI5w1w3jtKw==
        -----END CERTIFICATE-----
        """
    static let keyA = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgszC8b7NRuNjA9zFH
        c81NJqKcHHX2w8a9UpzDRHPpc56hRANCAARSwFxcLUvhWToM1OoJvAa+EKmG6qgA
        8N/a4f+7KlnDBcctHNG+qjWDkXRWsXUPM4oKaFcx2CQrhCyN9RwTQrBC
        -----END PRIVATE KEY-----
        """
    static let certificateB = """
        -----BEGIN CERTIFICATE-----
        MIIBnzCCAUWgAwIBAgIUSFgrdYhhceWu982ohg5EYKrX5gMwCgYIKoZIzj0EAwIw
        FjEUMBIGA1UEAwwLZmxvZS10ZXN0LWIwIBcNMjYxMjA3MjIyNzE4WhgPMjEyNjEx
        MTMyMjI3MThaMBYxFDASBgNVBAMMC2Zsb2UtdGVzdC1iMFkwEwYHKoZIzj0CAQYI
        KoZIzj0DAQcDQgAEN+5HNg2Ne7OB2x0rjeA/1+SiC9UWFbmcZIr45iJev+ewDr5U
        ZI18NjDJMatXkByWauI63ZIHF25HJqGInZeMi6NvMG0wHQYDVR0OBBYEFDkxN4wW
        4dUy8gAsZhxKqxeUkLFbMB8GA1UdIwQYMBaAFDkxN4wW4dUy8gAsZhxKqxeUkLFb
        MA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAoG
        CCqGSM49BAMCA0gAMEUCIQDBVpo6aNyQMi+eMd8pEKeHf311uYb7IuRW7NLm1tZl
        1wIgLzBXg059Hk9Sfqf53uubwvnFq/eUICpWfLo7e18lnW4=
        -----END CERTIFICATE-----
        """
    static let keyB = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/G3av9ZA22zeJYPl
        mYpVR6w5CMRLSr2K3WVIBlYAeeChRANCAAQ37kc2DY17s4HbHSuN4D/X5KIL1RYV
        uZxkivjmIl6/57AOvlRkjXw2MMkxq1eQHJZq4jrdkgcXbkcmoYidl4yL
        -----END PRIVATE KEY-----
        """
}

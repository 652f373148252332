import Testing

@testable import ObjectStore

/// AWS's published signatures: the S3 examples ("Examples: Signature Calculations in AWS Signature
/// Version 4", examplebucket, 20130524) and cases of the generic aws-sig-v4-test-suite (20150830).
@Suite("SigV4")
struct SigV4Tests {
    static let s3 = SigV4(
        accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    static let suite = SigV4(
        accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1",
        service: "service")
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let s3Host = ("Host", "examplebucket.s3.amazonaws.com")
    static let s3Date = ("x-amz-date", "20130524T000000Z")

    @Test func s3GetObjectWithRange() {
        let signature = Self.s3.sign(
            method: "GET", path: "/test.txt", query: [],
            headers: [Self.s3Host, ("Range", "bytes=0-9"), ("x-amz-content-sha256", Self.emptyHash), Self.s3Date],
            payloadHash: Self.emptyHash, timestamp: "20130524T000000Z")
        #expect(signature.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signature.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signature.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signature.authorization == """
            AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
            SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
            Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41
            """)
    }

    @Test func s3PutObjectEncodesTheDollarInTheKey() {
        let payloadHash = SigV4.payloadHash(Array("Welcome to Amazon S3.".utf8))
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signature = Self.s3.sign(
            method: "PUT", path: "/test$file.text", query: [],
            headers: [
                Self.s3Host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), Self.s3Date,
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", payloadHash),
            ],
            payloadHash: payloadHash, timestamp: "20130524T000000Z")
        #expect(signature.canonicalRequest == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        #expect(signature.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signature.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func s3GetBucketLifecycleHasAnEmptyQueryValue() {
        let signature = Self.s3.sign(
            method: "GET", path: "/", query: [("lifecycle", "")],
            headers: [Self.s3Host, Self.s3Date, ("x-amz-content-sha256", Self.emptyHash)],
            payloadHash: Self.emptyHash, timestamp: "20130524T000000Z")
        #expect(signature.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(signature.stringToSign.hasSuffix("\n9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"))
        #expect(signature.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func s3ListObjectsSortsTheQuery() {
        let signature = Self.s3.sign(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
            headers: [Self.s3Host, Self.s3Date, ("x-amz-content-sha256", Self.emptyHash)],
            payloadHash: Self.emptyHash, timestamp: "20130524T000000Z")
        #expect(signature.canonicalRequest == """
            GET
            /
            max-keys=2&prefix=J
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signature.stringToSign.hasSuffix("\ndf57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"))
        #expect(signature.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    /// Signs a test-suite GET of `/` on example.amazonaws.com with `query`.
    static func suiteGet(_ query: [SigV4.Field]) -> SigV4.Signature {
        suite.sign(
            method: "GET", path: "/", query: query,
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: emptyHash, timestamp: "20150830T123600Z")
    }

    @Test func suiteGetVanilla() {
        let signature = Self.suiteGet([])
        #expect(signature.canonicalRequest == """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signature.stringToSign == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        #expect(signature.authorization == """
            AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
            SignedHeaders=host;x-amz-date, \
            Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31
            """)
    }

    @Test func suiteGetVanillaQueryOrderKeyCase() {
        let signature = Self.suiteGet([("Param2", "value2"), ("Param1", "value1")])
        #expect(signature.canonicalRequest.split(separator: "\n")[2] == "Param1=value1&Param2=value2")
        #expect(signature.stringToSign.hasSuffix("\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"))
        #expect(signature.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func suiteGetVanillaQueryOrderEncodedSortsByEncodedName() {
        let signature = Self.suiteGet([("Param-3", "Value3"), ("Param", "Value2"), ("\u{1234}", "Value1")])
        #expect(signature.canonicalRequest.split(separator: "\n")[2] == "%E1%88%B4=Value1&Param=Value2&Param-3=Value3")
        #expect(signature.signature == "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac")
    }

    @Test func suiteGetVanillaQueryUnreservedIsNotEncoded() {
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        let signature = Self.suiteGet([(unreserved, unreserved)])
        #expect(signature.canonicalRequest.split(separator: "\n")[2] == "\(unreserved)=\(unreserved)")
        #expect(signature.signature == "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")
    }

    @Test func timestampIsUTCBasicFormat() {
        #expect(SigV4.timestamp(secondsSinceEpoch: 1_369_353_600) == "20130524T000000Z")
        #expect(SigV4.timestamp(secondsSinceEpoch: 1_440_938_160) == "20150830T123600Z")
    }

    @Test func pathSegmentsAreEncodedAndSlashesKept() {
        #expect(SigV4.canonicalPath("/bucket/a b/c+d/é") == "/bucket/a%20b/c%2Bd/%C3%A9")
        #expect(SigV4.uriEncode("a/b=c&d", keepingSlash: false) == "a%2Fb%3Dc%26d")
    }

    @Test func signedHeadersAddDateHashTokenAndAuthorization() {
        var signer = Self.s3
        signer.sessionToken = "token"
        let headers = signer.signedHeaders(
            method: "GET", path: "/test.txt", query: [], headers: [Self.s3Host], payloadHash: Self.emptyHash,
            secondsSinceEpoch: 1_369_353_600)
        #expect(headers.map(\.name) == ["Host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization"])
        #expect(headers[4].value.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
    }

    @Test func printingNeverShowsTheSecret() {
        #expect(!"\(Self.s3)".contains("EXAMPLEKEY"))
        var dumped = ""
        dump(Self.s3, to: &dumped)
        #expect(!dumped.contains("EXAMPLEKEY"))
    }
}

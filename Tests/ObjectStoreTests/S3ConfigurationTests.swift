import Testing

@testable import ObjectStore

@Suite("S3Configuration")
struct S3ConfigurationTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "very-secret"]

    @Test func urlGivesBucketAndPrefixAndDefaultsToAWS() throws {
        let configuration = try S3Configuration.from(url: "s3://my-bucket/some/prefix/", environment: Self.credentials)
        #expect(configuration.bucket == "my-bucket")
        #expect(configuration.keyPrefix == "some/prefix/")
        #expect(configuration.region == "us-east-1")
        #expect(configuration.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(configuration.sessionToken == nil)
        #expect(!"\(configuration)".contains("very-secret"))
    }

    @Test func environmentChoosesRegionEndpointAndToken() throws {
        var environment = Self.credentials
        environment["AWS_DEFAULT_REGION"] = "eu-west-1"
        environment["AWS_SESSION_TOKEN"] = "session"
        #expect(try S3Configuration.from(url: "s3://b", environment: environment).endpoint == "https://s3.eu-west-1.amazonaws.com")
        environment["AWS_REGION"] = "eu-central-1"
        environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9000/"
        let generic = try S3Configuration.from(url: "s3://b", environment: environment)
        #expect(generic.region == "eu-central-1")
        #expect(generic.endpoint == "http://127.0.0.1:9000")
        #expect(generic.sessionToken == "session")
        #expect(generic.keyPrefix == "")
        environment["AWS_ENDPOINT_URL_S3"] = "http://localhost:5000"
        #expect(try S3Configuration.from(url: "s3://b", environment: environment).endpoint == "http://localhost:5000")
    }

    @Test func missingCredentialsNameTheVariables() {
        let error = #expect(throws: ObjectStoreError.self) {
            try S3Configuration.from(url: "s3://b", environment: ["AWS_ACCESS_KEY_ID": "AKID"])
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
        #expect(error?.message.contains("AWS_ACCESS_KEY_ID") == false)
    }

    @Test func urlMustBeS3WithABucket() {
        for url in ["https://b/p", "s3://", "s3:///prefix"] {
            #expect(throws: ObjectStoreError.self) { try S3Configuration.from(url: url, environment: Self.credentials) }
        }
    }

    @Test func clientRefusesSmallPartsAndBadEndpoints() {
        var configuration = S3Configuration(
            endpoint: "http://127.0.0.1:1", region: "us-east-1", accessKey: "a", secretKey: "s", bucket: "b")
        configuration.partSize = 1 << 20
        #expect(throws: ObjectStoreError.self) { try S3Client(configuration: configuration) }
        configuration.partSize = S3Configuration.minimumPartSize
        configuration.endpoint = "ftp://127.0.0.1"
        #expect(throws: ObjectStoreError.self) { try S3Client(configuration: configuration) }
    }
}

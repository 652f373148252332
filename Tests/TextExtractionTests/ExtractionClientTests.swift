import Foundation
import Testing
import Synchronization
import TextExtraction

/// The client against a real `nexusfs extract-worker`, and against workers that crash or hang.
@Suite struct ExtractionClientTests {
    @Test(.enabled(if: WorkerBinary.path != nil, WorkerBinary.missing))
    func roundTripsEveryFixtureLikeInProcessExtraction() throws {
        let client = ExtractionClient(executable: WorkerBinary.path!, arguments: ["extract-worker"])
        defer { client.close() }
        for file in ["letter.odt", "letter.docx", "letter.pdf", "letter.html", "sheet.xlsx", "deck.pptx", "sheet.csv"] {
            let bytes = try Fixtures.bytes(file)
            #expect(client.extract(bytes, name: Fixtures.name(file)) == TextExtractor.extract(bytes, name: Fixtures.name(file)),
                    "\(file)")
        }
        #expect(client.extract([], name: Fixtures.name("empty")) == ExtractedText(mime: "application/x-empty", text: "", note: "empty file"))
    }

    @Test(.enabled(if: WorkerBinary.path != nil, WorkerBinary.missing))
    func servesConcurrentCallersOneAtATime() throws {
        let client = ExtractionClient(executable: WorkerBinary.path!, arguments: ["extract-worker"])
        defer { client.close() }
        let results = Mutex<[Int: ExtractedText]>([:])
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let result = client.extract(Array("file number \(index)\n".utf8), name: Fixtures.name("\(index).txt"))
            results.withLock { $0[index] = result }
        }
        let all = results.withLock { $0 }
        for index in 0..<16 {
            #expect(all[index] == ExtractedText(mime: "text/plain", text: "file number \(index)"))
        }
    }

    @Test(.enabled(if: WorkerBinary.path != nil, WorkerBinary.missing))
    func oversizedFileGetsAMIMETypeWithoutShippingItAll() {
        let client = ExtractionClient(executable: WorkerBinary.path!, arguments: ["extract-worker"])
        defer { client.close() }
        let bytes = Array("%PDF-1.4\n".utf8) + Array(repeating: UInt8(ascii: " "), count: 65 << 20)
        #expect(client.extract(bytes, name: Fixtures.name("big.pdf"))
                == ExtractedText(mime: "application/pdf", text: "", note: "too large to index"))
    }

    @Test func workerThatDiesGivesExtractorCrashed() {
        let client = ExtractionClient(executable: "/bin/sh", arguments: ["-c", "exit 3"])
        defer { client.close() }
        for _ in 0..<3 {
            #expect(client.extract(Array("hello\n".utf8), name: Fixtures.name("a.txt"))
                    == ExtractedText(mime: "application/octet-stream", text: "", note: "extractor crashed"))
        }
    }

    @Test(.enabled(if: WorkerBinary.path != nil, WorkerBinary.missing))
    func nextRequestAfterACrashStartsAFreshWorker() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("nexusfs-extract-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // The first worker kills itself with SIGKILL mid-request; the next ones are real workers.
        let script = "if [ ! -e \"$1\" ]; then : > \"$1\"; kill -9 $$; fi; exec \"$2\" extract-worker"
        let client = ExtractionClient(executable: "/bin/sh", arguments: ["-c", script, "sh", marker, WorkerBinary.path!])
        defer { client.close() }
        let bytes = try Fixtures.bytes("letter.odt")
        let crashed = client.extract(bytes, name: Fixtures.name("letter.odt"))
        #expect(crashed == ExtractedText(mime: "application/octet-stream", text: "", note: "extractor crashed"))
        let recovered = client.extract(bytes, name: Fixtures.name("letter.odt"))
        #expect(recovered.mime == "application/vnd.oasis.opendocument.text")
        #expect(recovered.text.contains("Rottnest island"))
    }

    @Test func workerThatDiesAfterItsMIMEVerdictKeepsTheVerdict() {
        // Reads the 35-byte request for "hello\n" named "a.txt", answers the MIME frame only, and dies.
        let script = #"head -c 35 >/dev/null; printf 'NXMT\012\000\000\000text/plain'; exit 1"#
        let client = ExtractionClient(executable: "/bin/sh", arguments: ["-c", script])
        defer { client.close() }
        #expect(client.extract(Array("hello\n".utf8), name: Fixtures.name("a.txt"))
                == ExtractedText(mime: "text/plain", text: "", note: "extractor crashed"))
    }

    @Test func workerThatAnswersGarbageIsTreatedAsCrashed() {
        let client = ExtractionClient(executable: "/bin/sh", arguments: ["-c", "head -c 35 >/dev/null; echo garbage; exec sleep 60"])
        defer { client.close() }
        let started = ContinuousClock.now
        #expect(client.extract(Array("hello\n".utf8), name: Fixtures.name("a.txt"))
                == ExtractedText(mime: "application/octet-stream", text: "", note: "extractor crashed"))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func workerThatHangsIsKilledAtTheTimeout() {
        let client = ExtractionClient(executable: "/bin/sh", arguments: ["-c", "exec sleep 60"], timeout: .milliseconds(300))
        defer { client.close() }
        let started = ContinuousClock.now
        let result = client.extract(Array("hello\n".utf8), name: Fixtures.name("a.txt"))
        #expect(result == ExtractedText(mime: "application/octet-stream", text: "", note: "timed out"))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func missingExecutableSaysSo() {
        let client = ExtractionClient(executable: "/nonexistent/nexusfs", arguments: ["extract-worker"])
        let result = client.extract(Array("hello\n".utf8), name: Fixtures.name("a.txt"))
        #expect(result.text == "")
        #expect(result.note?.hasPrefix("extractor could not start: /nonexistent/nexusfs") == true)
    }

    @Test func closingWithoutAWorkerIsHarmless() {
        let client = ExtractionClient(executable: "/bin/false", arguments: [])
        client.close()
        client.close()
    }
}



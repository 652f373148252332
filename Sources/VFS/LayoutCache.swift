import CatalogStore

/// Recently stored or read content layouts by manifest, so that opening a file that was just
/// saved, or asking for its size in blocks, does not decode its manifest from the catalog again
/// (a 1 GiB file's manifest has some 32,000 entries). Bounded by the extents and the layouts it
/// holds; the least recently used layouts go first.
struct LayoutCache {
    static let maxExtents = 1 << 20
    static let maxLayouts = 4096

    private var layouts: [ManifestID: (layout: ContentLayout, used: UInt64)] = [:]
    private var extents = 0
    private var clock: UInt64 = 0

    mutating func layout(of id: ManifestID) -> ContentLayout? {
        guard let found = layouts[id] else { return nil }
        clock += 1
        layouts[id]?.used = clock
        return found.layout
    }

    mutating func insert(_ layout: ContentLayout, as id: ManifestID) {
        let size = layout.extents.count
        guard size <= Self.maxExtents / 4, layouts[id] == nil else { return }
        while extents + size > Self.maxExtents || layouts.count >= Self.maxLayouts,
              let oldest = layouts.min(by: { $0.value.used < $1.value.used }) {
            extents -= oldest.value.layout.extents.count
            layouts[oldest.key] = nil
        }
        clock += 1
        layouts[id] = (layout, clock)
        extents += size
    }
}

import NIOCore

/// The frames a connection handler has produced since its last flush, and the rule for when to
/// flush them: frames produced while a batch of inbound frames is being read go out once, at the
/// end of the read batch; frames produced at other times go out once per event-loop tick. All of
/// them travel as one buffer per flush (one write, one syscall) instead of a write per frame.
struct RPCOutboundFrames {
    private var buffer = ByteBuffer()
    private var reading = false
    private var needsFlush = false
    private var flushScheduled = false

    /// A read batch starts.
    mutating func beginReading() {
        self.reading = true
    }

    /// A read batch ended; returns whether frames produced during it must be flushed now.
    mutating func endReading() -> Bool {
        self.reading = false
        defer { self.needsFlush = false }
        return self.needsFlush
    }

    /// Queues a frame; returns true when the caller must schedule a flush for this loop tick
    /// (and call ``scheduledFlushRan()`` when it runs).
    mutating func append(_ frame: RPCFrame) -> Bool {
        frame.encode(into: &self.buffer)
        return self.queued()
    }

    private mutating func queued() -> Bool {
        if self.reading {
            self.needsFlush = true
            return false
        }
        guard !self.flushScheduled else { return false }
        self.flushScheduled = true
        return true
    }

    /// Queues a frame whose body `encodeBody` writes straight into the outbound buffer (no body
    /// buffer per frame). If `encodeBody` throws, nothing is queued and the error is rethrown.
    /// Returns what ``append(_:)`` returns.
    mutating func append(
        kind: RPCFrameKind,
        methodID: UInt32,
        correlationID: UInt64,
        encodeBody: (inout ByteBuffer) throws -> Void
    ) rethrows -> Bool {
        let start = self.buffer.writerIndex
        self.buffer.reserveCapacity(minimumWritableBytes: RPCFrame.headerSize + 64)
        // Body length 0 for now, patched below.
        RPCFrame.writeHeader(into: &self.buffer, kind: kind, methodID: methodID, correlationID: correlationID, bodyLength: 0)
        do {
            try encodeBody(&self.buffer)
        } catch {
            self.buffer.moveWriterIndex(to: start)
            throw error
        }
        let bodyLength = self.buffer.writerIndex - start - RPCFrame.headerSize
        self.buffer.setInteger(UInt32(truncatingIfNeeded: bodyLength), at: start + RPCFrame.headerSize - 4)
        return self.queued()
    }

    /// The scheduled flush is running.
    mutating func scheduledFlushRan() {
        self.flushScheduled = false
    }

    /// The queued frames as one buffer, or nil when there are none; the queue starts afresh.
    mutating func take(allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard self.buffer.readableBytes > 0 else { return nil }
        let frames = self.buffer
        self.buffer = allocator.buffer(capacity: max(256, frames.readableBytes))
        return frames
    }
}

/// A first-in, first-out queue of pending work: appends at the back, takes from the front, both
/// in constant time (amortised), without `Array.removeFirst`'s shifting of every element.
struct WorkQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            // Drop the taken front once it is most of the array, so memory follows the queue's length.
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

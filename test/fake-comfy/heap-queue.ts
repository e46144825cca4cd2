/**
 * The pending list kept the way ComfyUI's PromptQueue keeps it: a binary min-heap on `number` with
 * Python heapq's push, pop and heapify, so `/queue` lists pending items in heap order (unsorted
 * once anything was popped), exactly as a real server shows them.
 */
export interface Numbered {
  number: number;
}

const less = (a: Numbered, b: Numbered) => a.number < b.number;

// Moves the item at `pos` towards the root while it is smaller than its parent (heapq's _siftdown).
function bubbleUp<T extends Numbered>(heap: T[], start: number, pos: number): void {
  const item = heap[pos]!;
  while (pos > start) {
    const parent = (pos - 1) >> 1;
    if (!less(item, heap[parent]!)) break;
    heap[pos] = heap[parent]!;
    pos = parent;
  }
  heap[pos] = item;
}

// heapq's _siftup: walks the smaller child up to a leaf, then bubbles the item back up. This
// variant (not the textbook one) decides the resulting order, so it is kept.
function sinkToLeaf<T extends Numbered>(heap: T[], pos: number): void {
  const end = heap.length;
  const start = pos;
  const item = heap[pos]!;
  let child = 2 * pos + 1;
  while (child < end) {
    const right = child + 1;
    if (right < end && !less(heap[child]!, heap[right]!)) child = right;
    heap[pos] = heap[child]!;
    pos = child;
    child = 2 * pos + 1;
  }
  heap[pos] = item;
  bubbleUp(heap, start, pos);
}

/** heapq.heappush */
export function heapPush<T extends Numbered>(heap: T[], item: T): void {
  heap.push(item);
  bubbleUp(heap, 0, heap.length - 1);
}

/** heapq.heappop: the smallest item, or null when empty. */
export function heapPop<T extends Numbered>(heap: T[]): T | null {
  const last = heap.pop();
  if (last === undefined) return null;
  if (heap.length === 0) return last;
  const top = heap[0]!;
  heap[0] = last;
  sinkToLeaf(heap, 0);
  return top;
}

/** heapq.heapify, in place. */
export function heapify<T extends Numbered>(heap: T[]): void {
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) sinkToLeaf(heap, i);
}

export type { Link, LinkCloseInfo, ReceiveOptions, SendOptions } from './link.js';
export { createMemoryLinkPair, type MemoryLinkOptions } from './memory-link.js';
export { withDeadline, type DeadlineOptions } from './deadline.js';
export { MessageQueue } from './message-queue.js';

// Package cards builds the Adaptive Cards (version 1.5) the bot shows employees in
// their 1:1 chat: WeChat messages with a reply box, notices, the welcome card, the
// list of threads, and confirmations. Every card is in English or Simplified
// Chinese and is kept under Teams' 28 KB limit.
package cards

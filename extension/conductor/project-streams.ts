/**
 * The extension's copy of each watched project's event stream. One WebSocket per project
 * (with `since` on every reconnect, so nothing is missed or doubled); panels are fed from the
 * copy, so a panel opened late rebuilds the whole history, and webviews never need the token
 * or a route to the conductor (which also makes remote setups work: code-server, Remote SSH).
 */
import * as vscode from "vscode";
import WebSocket from "ws";
import {
  applyEvent,
  emptySnapshot,
  subscribe,
  type AnyEventEnvelope,
  type ConductorClient,
  type PanelConnection,
  type ProjectSnapshot,
  type SocketLike,
  type Subscription,
} from "../../contract";
import type { ConductorProcess } from "./conductor-process";

export type ConnectionState = PanelConnection;

export interface ProjectFeed {
  readonly projectId: string;
  readonly events: readonly AnyEventEnvelope[];
  readonly snapshot: ProjectSnapshot;
  readonly connection: ConnectionState;
  readonly onEvents: vscode.Event<readonly AnyEventEnvelope[]>;
  readonly onConnection: vscode.Event<ConnectionState>;
}

class Feed implements ProjectFeed {
  events: AnyEventEnvelope[] = [];
  snapshot: ProjectSnapshot;
  connection: ConnectionState = "reconnecting";
  sub: Subscription | null = null;
  readonly eventsEmitter = new vscode.EventEmitter<readonly AnyEventEnvelope[]>();
  readonly connectionEmitter = new vscode.EventEmitter<ConnectionState>();
  readonly onEvents = this.eventsEmitter.event;
  readonly onConnection = this.connectionEmitter.event;
  private pending: AnyEventEnvelope[] = [];
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(readonly projectId: string) {
    this.snapshot = emptySnapshot(projectId);
  }

  add(e: AnyEventEnvelope): void {
    this.events.push(e);
    applyEvent(this.snapshot, e);
    this.pending.push(e);
    // a burst of events reaches listeners as one batch per frame
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      const batch = this.pending;
      this.pending = [];
      this.eventsEmitter.fire(batch);
    }, 16);
  }

  setConnection(state: ConnectionState): void {
    if (this.connection === state) return;
    this.connection = state;
    this.connectionEmitter.fire(state);
  }
}

export class ProjectStreams implements vscode.Disposable {
  private readonly feeds = new Map<string, Feed>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly conductor: ConductorProcess) {
    this.disposables.push(
      conductor.onDidRestart((client) => this.resubscribeAll(client)),
      // stopped on purpose: say so, and stop reconnecting until it starts again
      conductor.onDidStop(() => {
        for (const feed of this.feeds.values()) {
          feed.sub?.close();
          feed.sub = null;
          feed.setConnection("stopped");
        }
      }),
    );
  }

  async watch(projectId: string): Promise<ProjectFeed> {
    let feed = this.feeds.get(projectId);
    if (!feed) {
      feed = new Feed(projectId);
      this.feeds.set(projectId, feed);
      this.connect(feed, await this.conductor.ensure());
    }
    return feed;
  }

  private connect(feed: Feed, client: ConductorClient): void {
    feed.sub?.close();
    feed.sub = subscribe({
      since: feed.events.length ? feed.events[feed.events.length - 1]!.seq : 0,
      url: (since) => client.streamUrl(feed.projectId, since),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      onHello: () => feed.setConnection("connected"),
      onEvent: (e) => feed.add(e),
      onReconnect: () => feed.setConnection("reconnecting"),
    });
  }

  private resubscribeAll(client: ConductorClient): void {
    for (const feed of this.feeds.values()) {
      feed.setConnection("reconnecting");
      this.connect(feed, client);
    }
  }

  dispose(): void {
    for (const f of this.feeds.values()) {
      f.sub?.close();
      f.eventsEmitter.dispose();
      f.connectionEmitter.dispose();
    }
    this.feeds.clear();
    for (const d of this.disposables) d.dispose();
  }
}

// Messages between the runner and its child processes.

export type ParentRequest =
  | { readonly type: 'cpu'; readonly id: number }
  | { readonly type: 'memory'; readonly id: number }
  | { readonly type: 'exit' };

export type ChildReply =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'cpu'; readonly id: number; readonly user: number; readonly system: number; readonly wallNs: number }
  | { readonly type: 'memory'; readonly id: number; readonly heapUsed: number; readonly rss: number }
  | { readonly type: 'micro'; readonly results: readonly MicroSample[]; readonly tables?: readonly string[] };

/** One round of one micro benchmark: nanoseconds per call. */
export interface MicroSample {
  readonly name: string;
  readonly round: number;
  readonly nsPerCall: number;
}

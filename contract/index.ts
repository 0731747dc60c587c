/** The one contract the kernel, the extension and the webviews share. */
export * from "./stages";
export * from "./events";
export * from "./envelope";
export * from "./api";
export * from "./plans";
export * from "./project-state";
export * from "./stream-subscription";
export * from "./conductor-client";
export * from "./kernel-api";
export * from "./panel-protocol";

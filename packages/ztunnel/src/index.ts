// Public surface of @trellis/ztunnel. Not implemented yet.
export const implemented = false;

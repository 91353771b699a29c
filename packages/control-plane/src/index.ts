// Public surface of @trellis/control-plane. Not implemented yet.
export const implemented = false;

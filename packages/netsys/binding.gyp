# Builds build/Release/netsys.node: one small N-API addon for what Node.js cannot do itself.
# Offline: `node-gyp rebuild --nodedir=/usr` uses the headers in /usr/include/node.
{
  'targets': [
    {
      'target_name': 'netsys',
      'sources': [
        'native/addon.cc',
        'native/errors.cc',
        'native/fd_watcher.cc',
        'native/netns.cc',
        'native/original_dst.cc',
        'native/seqpacket.cc',
        'native/sockopt.cc',
        'native/udp_handover.cc',
      ],
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except",
      ],
      'defines': ['NAPI_VERSION=8'],
      'cflags_cc': ['-Wall', '-Wextra'],
    },
  ],
}

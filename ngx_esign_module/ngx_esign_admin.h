/*
 * The admin page's files, compiled into the module (see
 * tools/embed-admin-ui.sh), and the handler that serves them at /admin/.
 */

#ifndef _NGX_ESIGN_ADMIN_H_INCLUDED_
#define _NGX_ESIGN_ADMIN_H_INCLUDED_


#include <stddef.h>


typedef struct {
    const char           *path;          /* "/index.html" */
    const char           *content_type;
    const char           *etag;          /* quoted content hash */
    const unsigned char  *data;
    size_t                size;
} ngx_esign_asset_t;


extern const ngx_esign_asset_t  ngx_esign_admin_assets[];


#endif /* _NGX_ESIGN_ADMIN_H_INCLUDED_ */

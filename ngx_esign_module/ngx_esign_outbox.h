/*
 * The notification outbox inside nginx: directives, the delivery timer of
 * worker 0 (delivery itself runs in the thread pool) and the operator
 * view GET /admin/outbox.
 */

#ifndef _NGX_ESIGN_OUTBOX_H_INCLUDED_
#define _NGX_ESIGN_OUTBOX_H_INCLUDED_


#include "ngx_esign.h"


typedef struct {
    char                      *smtp_host;     /* esign_smtp host:port */
    unsigned                   smtp_port;
    char                      *smtp_from;     /* esign_smtp_from */
    char                      *sms_host;      /* esign_sms_gateway */
    unsigned                   sms_port;
    char                      *sms_path;
    ngx_str_t                  public_url;    /* esign_public_url */

    ngx_msec_t                 interval;      /* esign_outbox_interval */
    ngx_msec_t                 retry_base;    /* esign_outbox_retry_base */
    ngx_msec_t                 timeout;       /* esign_notify_timeout */
    ngx_msec_t                 link_ttl;      /* esign_link_ttl */
    ngx_uint_t                 max_attempts;  /* esign_outbox_max_attempts */

    /* per-worker delivery state */
    ngx_event_t                ev;
    ngx_thread_task_t         *task;
    ngx_esign_main_conf_t     *emcf;
    unsigned                   busy:1;
} ngx_esign_notify_conf_t;


/* The handler of every notification directive (dispatches on the name). */
char *ngx_esign_notify_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

char *ngx_esign_notify_init_main_conf(ngx_conf_t *cf,
    ngx_esign_main_conf_t *emcf);
ngx_int_t ngx_esign_notify_init_process(ngx_cycle_t *cycle,
    ngx_esign_main_conf_t *emcf);
void ngx_esign_notify_exit_process(ngx_esign_main_conf_t *emcf);

/* Wall clock in ms (for records and tokens). */
uint64_t ngx_esign_notify_now(void);


extern ngx_esign_route_t  ngx_esign_outbox_routes[];
extern ngx_esign_route_t  ngx_esign_messages_routes[];
extern ngx_esign_route_t  ngx_esign_links_routes[];
extern ngx_esign_route_t  ngx_esign_deregistration_routes[];


#endif /* _NGX_ESIGN_OUTBOX_H_INCLUDED_ */

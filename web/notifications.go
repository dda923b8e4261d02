package web

import "github.com/gin-gonic/gin"

func (s *Server) mountNotifications(r *gin.RouterGroup) {}
